/**
 * Highlighted TypeScript with line numbers. Token colours are CSS variables
 * (styles/panel.css) so both themes keep AA contrast.
 */
import { Highlight, type PrismTheme } from "prism-react-renderer";
import { memo } from "react";

const v = (name: string) => ({ color: `var(--tok-${name})` });

const THEME: PrismTheme = {
  plain: { color: "var(--text)", backgroundColor: "var(--code-bg)" },
  styles: [
    { types: ["comment", "prolog", "doctype", "cdata"], style: { ...v("comment"), fontStyle: "italic" } },
    { types: ["string", "char", "template-string", "attr-value", "regex"], style: v("string") },
    { types: ["number", "boolean", "constant", "symbol"], style: v("number") },
    { types: ["keyword", "atrule", "important", "selector"], style: v("keyword") },
    { types: ["function", "method", "class-name", "maybe-class-name"], style: v("function") },
    { types: ["builtin", "tag", "property", "attr-name", "property-access"], style: v("property") },
    { types: ["operator", "punctuation"], style: v("punct") },
    { types: ["variable", "parameter"], style: { color: "var(--text)" } },
  ],
};

export const CodeBlock = memo(function CodeBlock({ code, language = "tsx", label }: { code: string; language?: string; label: string }) {
  return (
    <Highlight code={code.replace(/\n$/, "")} language={language} theme={THEME}>
      {({ className, style, tokens, getLineProps, getTokenProps }) => (
        <pre className={`code ${className}`} style={style} aria-label={label} tabIndex={0}>
          {tokens.map((line, i) => {
            const { key: _k, ...lineProps } = getLineProps({ line, key: i }) as ReturnType<typeof getLineProps> & { key?: unknown };
            return (
              <div key={i} {...lineProps} className="code-line">
                <span className="code-ln" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="code-text">
                  {line.map((token, k) => {
                    const { key: _t, ...tokenProps } = getTokenProps({ token, key: k }) as ReturnType<typeof getTokenProps> & { key?: unknown };
                    return <span key={k} {...tokenProps} />;
                  })}
                </span>
              </div>
            );
          })}
        </pre>
      )}
    </Highlight>
  );
});
