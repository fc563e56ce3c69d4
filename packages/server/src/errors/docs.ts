/**
 * Every code's one-line description, the library's and the service's: what `keyward explain` and
 * docs/errors.md show.
 *
 * @module
 */
import { type ErrorCode, errorDocs } from "@keyward/attest/errors";
import { serviceCatalogue } from "./catalogue.ts";

/** Every code → its description, in catalogue order (library first). */
export const ALL_ERROR_DOCS: { readonly [C in ErrorCode]: string } = {
  ...errorDocs,
  ...(Object.fromEntries(Object.entries(serviceCatalogue).map(([c, s]) => [c, s.doc])) as {
    readonly [C in keyof typeof serviceCatalogue]: string;
  }),
};
