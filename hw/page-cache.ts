// The page cache of shared file mappings: for each file, page offset -> the frame holding that
// page. Every process mapping a shared file page maps the one frame (a fault finds it here before
// allocating); pageout drops a page from it, and a migration or a swap-in records the new frame.
// Private and anonymous mappings have no entry (their lookups give -1, their updates do nothing).

import type { Vma } from "./process.ts";

export class PageCache {
  private readonly files = new Map<string, Map<number, number>>();

  /** Frame holding page `vpn` of `vma` when it is a shared file mapping and the page is cached, else -1. */
  frame(vma: Vma, vpn: number): number {
    if (!vma.sharedFile) return -1;
    return this.files.get(vma.fileId!)?.get(vma.pageOffset(vpn)) ?? -1;
  }

  /** Records that `frame` holds page `vpn` of `vma` (shared file mappings only). */
  set(vma: Vma, vpn: number, frame: number): void {
    if (vma.sharedFile) this.pages(vma.fileId!).set(vma.pageOffset(vpn), frame);
  }

  /** Drops page `vpn` of `vma` from its file's cache (shared file mappings only). */
  delete(vma: Vma, vpn: number): void {
    if (vma.sharedFile) this.pages(vma.fileId!).delete(vma.pageOffset(vpn));
  }

  private pages(fileId: string): Map<number, number> {
    let m = this.files.get(fileId);
    if (m === undefined) {
      m = new Map();
      this.files.set(fileId, m);
    }
    return m;
  }
}
