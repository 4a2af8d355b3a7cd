/** DAG and task docs: markdown rendered by marked, then sanitised by DOMPurify (docs come from DAG files, which anyone with repo access can edit). */
import DOMPurify from "dompurify";
import { marked } from "marked";

export function renderMarkdown(md: string): string {
  const html = marked.parse(md, { async: false, gfm: true, breaks: false }) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "button", "iframe"], FORBID_ATTR: ["style"] });
}
