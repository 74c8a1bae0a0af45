// render.images and render.neighbors: strips of images with captions; a query beside its
// nearest neighbours, several queries as rows, feature space and pixel space side by side,
// each neighbour framed green (same class as the query) or red (another class).
import { Figure } from './figure';
import { Normalize, Pixels, scaleFor, toRgba, upscale } from './draw/raster';
import { ColumnGroup, drawTiles, Tile } from './draw/tiles';

export const CORRECT_COLOR = '#1a9850';
export const WRONG_COLOR = '#d73027';
export const QUERY_COLOR = '#2166ac';

export interface ImagesOptions {
  /** one caption line, or several lines, per image */
  captions?: (string | string[])[];
  /** true = framed green, false = framed red, null/undefined = no frame */
  correct?: (boolean | null | undefined)[];
  cols?: number;
  /** integer nearest-neighbour upscaling; default makes each image at least `size` px */
  scale?: number;
  size?: number;
  /** 'none' (values already in [0, 1], default), 'minmax' per image, 'symmetric' (0 -> gray) */
  normalize?: Normalize;
  title?: string;
}

function lines(c: string | string[] | undefined): string[] | undefined {
  if (c === undefined) return undefined;
  return Array.isArray(c) ? c : [c];
}

function mark(ok: boolean | null | undefined): string | undefined {
  return ok === true ? CORRECT_COLOR : ok === false ? WRONG_COLOR : undefined;
}

export function images(imgs: Pixels[], o: ImagesOptions = {}): Figure {
  if (imgs.length === 0) throw new Error('images needs at least one image');
  const maxSide = Math.max(...imgs.map((i) => Math.max(i.width, i.height)));
  const scale = o.scale ?? scaleFor(maxSide, maxSide, o.size ?? 84);
  const tiles: Tile[] = imgs.map((img, i) => ({
    img: upscale(toRgba(img, o.normalize ?? 'none'), scale),
    caption: lines(o.captions?.[i]),
    frame: mark(o.correct?.[i]),
  }));
  const cols = o.cols ?? Math.min(imgs.length, 10);
  const rows: Tile[][] = [];
  for (let i = 0; i < tiles.length; i += cols) rows.push(tiles.slice(i, i + cols));
  const { sheet, geometry } = drawTiles({ rows, title: o.title });
  return new Figure({
    kind: 'images', width: geometry.width, height: geometry.height, png: sheet.png(),
    text: `images: ${imgs.length} at x${scale}`,
    info: { scale, cells: geometry.cells, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight },
  });
}

/** Neighbours of every query in one space (feature space, pixel space, ...). */
export interface NeighborSection {
  title: string;
  /** [query][rank] */
  images: Pixels[][];
  captions?: (string | string[])[][];
  correct?: (boolean | null)[][];
}

export interface NeighborsInput {
  queries: Pixels[];
  queryCaptions?: (string | string[])[];
  sections: NeighborSection[];
}

export interface NeighborsOptions {
  scale?: number;
  size?: number;
  normalize?: Normalize;
  title?: string;
}

export function neighbors(input: NeighborsInput, o: NeighborsOptions = {}): Figure {
  const { queries, sections } = input;
  if (queries.length === 0) throw new Error('neighbors needs at least one query');
  if (sections.length === 0) throw new Error('neighbors needs at least one section of neighbours');
  sections.forEach((s) => {
    if (s.images.length !== queries.length) {
      throw new Error(`section '${s.title}' has neighbours for ${s.images.length} queries; expected ${queries.length}`);
    }
  });
  const all = [...queries, ...sections.flatMap((s) => s.images.flat())];
  const maxSide = Math.max(...all.map((i) => Math.max(i.width, i.height)));
  const scale = o.scale ?? scaleFor(maxSide, maxSide, o.size ?? 84);
  const norm = o.normalize ?? 'none';
  const ks = sections.map((s) => Math.max(...s.images.map((row) => row.length)));
  const groups: ColumnGroup[] = [{ title: 'query', start: 0, count: 1 }];
  let start = 1;
  sections.forEach((s, i) => { groups.push({ title: s.title, start, count: ks[i] }); start += ks[i]; });
  const rows: Tile[][] = queries.map((q, r) => {
    const row: Tile[] = [{
      img: upscale(toRgba(q, norm), scale), caption: lines(input.queryCaptions?.[r]), frame: QUERY_COLOR,
    }];
    sections.forEach((s, si) => {
      for (let j = 0; j < ks[si]; j++) {
        const img = s.images[r][j];
        row.push(img
          ? { img: upscale(toRgba(img, norm), scale), caption: lines(s.captions?.[r]?.[j]), frame: mark(s.correct?.[r]?.[j]) }
          : { img: null });
      }
    });
    return row;
  });
  const { sheet, geometry } = drawTiles({ rows, groups, title: o.title, groupGap: 24 });
  return new Figure({
    kind: 'neighbors', width: geometry.width, height: geometry.height, png: sheet.png(),
    text: `neighbors: ${queries.length} queries x ${sections.map((s, i) => `${ks[i]} in ${s.title}`).join(', ')}`,
    info: { scale, cells: geometry.cells, cellWidth: geometry.cellWidth, cellHeight: geometry.cellHeight },
  });
}
