import katex from "katex";
import "katex/dist/katex.min.css";
import { useLayoutEffect, useMemo, useRef } from "react";

/** The smallest a formula is shrunk to fit its card; below that it scrolls sideways instead. */
const MIN_FIT_SCALE = 0.6;

/**
 * A formula typeset by KaTeX; its source as code if KaTeX cannot read it. A display formula
 * wider than its box (RReLU's cases, Mish's derivative in a gallery card) is scaled down to fit,
 * so it never runs out of the card.
 */
export function Tex({ tex, block }: { tex: string | undefined; block?: boolean }) {
  const ref = useRef<HTMLSpanElement>(null);
  const html = useMemo(() => {
    if (!tex) return null;
    try {
      return katex.renderToString(tex, { displayMode: Boolean(block), throwOnError: false, strict: false });
    } catch {
      return null;
    }
  }, [tex, block]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!block || !el || !html) return;
    const fit = () => {
      el.style.fontSize = "";
      const inner = el.querySelector<HTMLElement>(".katex-display > .katex");
      const box = el.parentElement?.clientWidth ?? 0;
      const wide = inner?.scrollWidth ?? 0;
      if (box > 0 && wide > box) el.style.fontSize = `${Math.max(MIN_FIT_SCALE, box / wide)}em`;
    };
    fit();
    const observer = new ResizeObserver(fit);
    if (el.parentElement) observer.observe(el.parentElement);
    return () => observer.disconnect();
  }, [html, block]);

  if (!tex) return null;
  return html ? (
    // biome-ignore lint/security/noDangerouslySetInnerHtml: KaTeX output of the API's formula, rendered with trust off
    <span ref={ref} className="tex" dangerouslySetInnerHTML={{ __html: html }} />
  ) : (
    <code>{tex}</code>
  );
}
