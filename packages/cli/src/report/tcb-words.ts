/**
 * Intel's TCB statuses and advisories in words: what each means for someone deciding whether to
 * trust the platform. Wording after Intel's "TCB Info" and QVL documentation (the status names are
 * Intel's; the sentences are ours).
 *
 * @module
 */

const MEANINGS: Readonly<Record<string, string>> = {
  UpToDate: "the platform's TCB is current; no known issue needs an action",
  SWHardeningNeeded:
    "the platform is current, but the advisories listed need software mitigations in the enclave; a policy decides whether to accept",
  ConfigurationNeeded:
    "the platform needs a configuration change (BIOS/firmware settings) to be current; a policy decides whether to accept",
  ConfigurationAndSWHardeningNeeded:
    "the platform needs a configuration change and the enclave software mitigations; a policy decides whether to accept",
  OutOfDate:
    "the platform needs a microcode/firmware update (a TCB recovery); a policy decides whether to accept",
  OutOfDateConfigurationNeeded:
    "the platform needs a microcode/firmware update and a configuration change; a policy decides whether to accept",
  Revoked: "Intel has revoked the platform's TCB or keys: it must not be trusted",
};

/** What a TCB status means for the relying party, in one sentence. */
export function tcbMeaning(status: string): string {
  return MEANINGS[status] ?? "a status this version of Keyward does not know; treat it as untrusted";
}

/** The public page of an Intel security advisory ("INTEL-SA-00960"). */
export function advisoryUrl(id: string): string {
  return `https://www.intel.com/content/www/us/en/security-center/advisory/${id.toLowerCase()}.html`;
}

/** What the advisory IDs of a verdict mean, in one sentence (empty when there are none). */
export function advisoriesMeaning(ids: readonly string[]): string {
  if (ids.length === 0) return "";
  return `${ids.length === 1 ? "this Intel security advisory applies" : "these Intel security advisories apply"} to the platform's TCB level: the platform is exposed to the issues they describe until updated or mitigated (a policy may list the ones it tolerates)`;
}
