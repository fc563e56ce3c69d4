export type { RaTlsCredential, RaTlsIdentity, RaTlsIssueOptions } from "./issue.ts";
export { createRaTlsIdentity, issueRaTlsCertificate } from "./issue.ts";
