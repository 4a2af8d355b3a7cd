/** DAG and task docs: markdown rendered by marked, then sanitised by DOMPurify (docs come from DAG files, which anyone with repo access can edit). */
import DOMPurify from "dompurify";
import { Marked } from "marked";

// Docs sit under the page's own <h1> and tab headings: "# Title" in a DAG's docs becomes an <h3>, and so on down.
const docs = new Marked({
  async: false,
  gfm: true,
  breaks: false,
  walkTokens(token) {
    if (token.type === "heading") token.depth = Math.min(6, token.depth + 2);
  },
});

export function renderMarkdown(md: string): string {
  const html = docs.parse(md) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "button", "iframe"], FORBID_ATTR: ["style"] });
}
