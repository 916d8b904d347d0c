/**
 * What an HTML page shows, as plain data (built by src/cli/html-view.ts from a Matrix or a
 * MatrixDiff; rendered by page.ts). Every string here is text, never markup: the renderer
 * escapes all of it.
 */

/** How a cell reads: a verdict, or a verdict that changed (diff pages). */
export type CellMark = 'allow' | 'deny' | 'opened' | 'closed';

export interface CellView {
  readonly mark: CellMark;
  /** one line: `frontend/web -> db/postgres TCP/80: denied` */
  readonly title: string;
  /** index into PageModel.texts: the explanation of both directions */
  readonly detail: number;
}

export interface GridView {
  readonly port: number;
  readonly protocol: string;
  readonly family?: 4 | 6;
  /** rows = sources, columns = destinations, in PageModel.endpoints order; null: no common address family */
  readonly cells: readonly (readonly (CellView | null)[])[];
}

export interface EndpointView {
  readonly label: string;
  /** pods: their namespace; extra addresses: "" */
  readonly namespace: string;
  readonly kind: 'pod' | 'host-network-pod' | 'address';
}

export interface PageModel {
  readonly kind: 'matrix' | 'diff';
  readonly title: string;
  /** lines under the title: sources, counts */
  readonly subtitle: readonly string[];
  readonly endpoints: readonly EndpointView[];
  readonly grids: readonly GridView[];
  /** explanation texts, shared by cells (deduplicated) */
  readonly texts: readonly string[];
  /** diff pages: the changes grouped by cause, as text blocks */
  readonly groups?: readonly { readonly heading: string; readonly body: string }[];
  /** problems of the input (served pages: the last good state is shown, with these) */
  readonly problems?: readonly string[];
  /** served pages: poll this path and reload when the generation changes */
  readonly live?: { readonly path: string; readonly generation: number };
  /** served pages: links to the other pages */
  readonly links?: readonly { readonly href: string; readonly text: string }[];
}
