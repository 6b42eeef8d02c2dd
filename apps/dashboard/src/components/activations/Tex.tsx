import katex from "katex";
import "katex/dist/katex.min.css";
import { useMemo } from "react";

/** A formula typeset by KaTeX; its source as code if KaTeX cannot read it. */
export function Tex({ tex, block }: { tex: string | undefined; block?: boolean }) {
  const html = useMemo(() => {
    if (!tex) return null;
    try {
      return katex.renderToString(tex, { displayMode: Boolean(block), throwOnError: false, strict: false });
    } catch {
      return null;
    }
  }, [tex, block]);
  if (!tex) return null;
  // biome-ignore lint/security/noDangerouslySetInnerHtml: KaTeX output of the API's formula, rendered with trust off
  return html ? <span className="tex" dangerouslySetInnerHTML={{ __html: html }} /> : <code>{tex}</code>;
}
