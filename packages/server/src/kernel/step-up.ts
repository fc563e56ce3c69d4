/**
 * The second-factor seam of administrative changes: mutating admin calls first await the step-up
 * with the action, the operator and the request headers. The default accepts (the admin client
 * certificate is the only factor); a feature that provides a second factor (OTP) plugs in here
 * through `FeatureRuntime.adminStepUp`, without the admin feature importing it.
 *
 * @module
 */

/**
 * Resolves to allow; throws to refuse (ERR_ADMIN_STEP_UP_REQUIRED when no second factor was given,
 * the factor's own code — ERR_OTP_INVALID, ERR_OTP_REPLAYED, ERR_OTP_LOCKED — when it was not
 * accepted). A refusal happens before the change touches the store or the audit log.
 */
export type AdminStepUp = (call: {
  /** The admin action (`secret.put`, `policy.put`, `otp.account.create`, …). */
  readonly action: string;
  /** The operator (`admin:<CN>:<certificate hash>`). */
  readonly subject: string;
  /** The request headers: `keyward-otp: ACCOUNT:CODE` carries the code. */
  readonly headers: Headers;
  readonly clientAddress?: string | undefined;
}) => Promise<void>;

/** Accepts every call: the admin client certificate is the only factor. */
export const NO_STEP_UP: AdminStepUp = async () => undefined;
