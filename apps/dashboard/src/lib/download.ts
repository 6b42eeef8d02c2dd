import { fileSlug as slug } from "@actlab/contracts";

/** Offers `content` as a file download (an <a download> click; the object URL is revoked after). */
export function downloadBlob(filename: string, content: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name from a chart's or experiment's title (the API names its downloads the same way). */
export const fileSlug = (title: string) => slug(title, "chart");
