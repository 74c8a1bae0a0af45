#!/usr/bin/env python3
"""Derive src/data/imagenet/table.json: for each ImageNet-1k class (standard order, synsets sorted),
its WordNet 3.0 synset, first lemma and a coarse group (dog, bird, vehicle, ...), plus Darknet's
class order as synsets. Run once by hand; the table is committed, the inputs never are.

  apt-get download wordnet-base darknet && for d in *.deb; do dpkg-deb -x "$d" x; done
  python3 src/data/imagenet/derive_table.py x/usr/share > src/data/imagenet/table.json

Inputs: x/usr/share/wordnet/data.noun (WordNet 3.0, Debian wordnet-base 1:3.0-37; WordNet 3.0
license, Princeton University) and x/usr/share/darknet/data/imagenet.labels.list (Debian darknet
0.0.0+git20180914.61c9d02e-2; its first 1,000 lines are Darknet's ImageNet-1k order).
ImageNet's ids are WordNet 3.0 noun offsets ('n' + 8 digits), so each class's hypernym chain is
read straight from data.noun.
"""
import json
import sys

# Group roots, most specific first: a class goes to the first root among its hypernyms.
# (offset, group name) - the offsets are WordNet 3.0 noun synsets.
GROUPS = [
    ("02084071", "dog"),  # dog, domestic dog, Canis familiaris
    ("02120997", "cat"),  # feline, felid (house cats and big cats)
    ("01503061", "bird"),
    ("02512053", "fish"),
    ("01661091", "reptile or amphibian"),  # reptile
    ("01627424", "reptile or amphibian"),  # amphibian
    ("02159955", "insect or spider"),  # insect
    ("01769347", "insect or spider"),  # arachnid
    ("01905661", "other invertebrate"),
    ("02469914", "primate"),
    ("01861778", "other mammal"),
    ("04524313", "vehicle"),
    ("03800933", "musical instrument"),
    ("03051540", "clothing or covering"),  # clothing, article of clothing
    ("03122748", "clothing or covering"),  # covering (shoes, armour, bedclothes, ...)
    ("03405725", "furniture"),
    ("04341686", "building or structure"),  # structure, construction
    ("07555863", "food"),  # food, nutrient
    ("13134947", "food"),  # fruit
    ("00021265", "food"),  # food, nutrient (solid)
    ("09287968", "landscape"),  # geological formation
    ("03094503", "container"),
    ("03183080", "device"),
    ("03528263", "device"),  # home appliance
    ("03563967", "tool or implement"),  # implement
    ("03575240", "tool or implement"),  # instrumentality (what is left of artefacts)
]
OTHER = "other"


def read_nouns(path):
    hyper, lemma = {}, {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            parts = line.split(" | ")[0].split()
            off, nwords = parts[0], int(parts[3], 16)
            lemma[off] = parts[4].replace("_", " ")
            at = 4 + 2 * nwords
            npointers = int(parts[at])
            ups = []
            for p in range(npointers):
                sym, target, pos = parts[at + 1 + 4 * p : at + 4 + 4 * p]
                if sym in ("@", "@i") and pos == "n":
                    ups.append(target)
            hyper[off] = ups
    return hyper, lemma


def ancestors(off, hyper):
    seen, todo = set(), [off]
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo.extend(hyper.get(x, []))
    return seen


def main(share):
    hyper, lemma = read_nouns(f"{share}/wordnet/data.noun")
    with open(f"{share}/darknet/data/imagenet.labels.list") as f:
        darknet = [line.strip() for line in f][:1000]
    synsets = sorted(darknet)
    if len(set(synsets)) != 1000:
        raise SystemExit("expected 1000 distinct synsets")
    classes = []
    for s in synsets:
        up = ancestors(s[1:], hyper)
        group = next((name for off, name in GROUPS if off in up), OTHER)
        classes.append([s, lemma[s[1:]], group])
    names = []
    for _, name in GROUPS + [("", OTHER)]:
        if name not in names:
            names.append(name)
    table = {
        "about": "ImageNet-1k classes in the standard order (synsets sorted): [synset, WordNet lemma, group]; "
        "darknet: Darknet's class order as synsets. Derived by derive_table.py from WordNet 3.0 "
        "(Debian wordnet-base 1:3.0-37) and Darknet's imagenet.labels.list (Debian darknet).",
        "license": "WordNet 3.0 license: WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
        "Permission to use, copy, modify and distribute for any purpose without fee, with this notice; "
        "provided AS IS, without warranties. Darknet's label list: public domain.",
        "groups": names,
        "classes": classes,
        "darknet": darknet,
    }
    json.dump(table, sys.stdout, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "x/usr/share")
