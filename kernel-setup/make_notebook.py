"""Write a notebook from a compact text form (used to author the lecture notebooks).

  python3 kernel-setup/make_notebook.py SRC.nb.txt OUT.ipynb

In the source, a line '%% md' starts a markdown cell and '%% code' a TypeScript cell.
"""
import sys
import nbformat as nbf

src, out = sys.argv[1], sys.argv[2]
cells, kind, buf = [], None, []


def flush():
    if kind is None:
        return
    text = "\n".join(buf).strip("\n")
    cells.append(nbf.v4.new_markdown_cell(text) if kind == "md" else nbf.v4.new_code_cell(text))


for line in open(src, encoding="utf-8").read().split("\n"):
    if line.startswith("%% "):
        flush()
        kind, buf = line[3:].strip(), []
    else:
        buf.append(line)
flush()
nb = nbf.v4.new_notebook()
nb.metadata = {
    "kernelspec": {"name": "cnnviz", "display_name": "TypeScript (cnnviz)", "language": "typescript"},
    "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
}
nb.cells = cells
nbf.write(nb, out)
