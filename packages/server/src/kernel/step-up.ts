/**
 * The second-factor seam of administrative changes: mutating admin calls first await the step-up
 * with the action, the operator and the request headers. The default accepts (the admin client
 * certificate is the only factor); a feature that provides a second factor (OTP) plugs in here
 * through `FeatureRuntime.adminStepUp`, without the admin feature importing it.
 *
 * @module
 */

/** Resolves to allow; throws (ERR_ADMIN_STEP_UP_REQUIRED) to refuse. */
export type AdminStepUp = (call: {
  readonly action: string;
  readonly subject: string;
  readonly headers: Headers;
}) => Promise<void>;

/** Accepts every call: the admin client certificate is the only factor. */
export const NO_STEP_UP: AdminStepUp = async () => undefined;
