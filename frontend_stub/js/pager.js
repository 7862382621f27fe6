// Previous / next buttons over a cursor connection. The cursors of the pages
// already seen are kept, so "Previous" needs no backward cursor from the API.

import { h } from "./dom.js";

/** Keep the `after` cursor of each page the user has opened. */
export class CursorTrail {
  constructor() {
    this.cursors = [null];
  }

  get current() {
    return this.cursors.at(-1);
  }

  get hasPrevious() {
    return this.cursors.length > 1;
  }

  forward(endCursor) {
    this.cursors.push(endCursor);
  }

  back() {
    if (this.hasPrevious) this.cursors.pop();
  }

  get pageNumber() {
    return this.cursors.length;
  }
}

/** Render the pager for `trail`; `load` re-reads the page at trail.current. */
export function pager(trail, pageInfo, load, label) {
  return h(
    "nav",
    { class: "pager", "aria-label": label },
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        disabled: !trail.hasPrevious,
        onClick: () => {
          trail.back();
          load();
        },
      },
      "Previous",
    ),
    h("span", { class: "muted" }, `Page ${trail.pageNumber}`),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        disabled: !pageInfo.hasNextPage,
        onClick: () => {
          trail.forward(pageInfo.endCursor);
          load();
        },
      },
      "Next",
    ),
  );
}
