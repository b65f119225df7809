/** The document kinds `registre docs --only` takes. */
export const DOCUMENT_KINDS = ['notice', 'art30', 'dpv'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
