/**
 * Gramine's secret-provisioning protocol (`secret_prov_attest.c`), server side.
 *
 * @module
 */
export {
  createGramineSecretProvisionServer,
  type GramineSecretProvisionOptions,
  SECRET_PROVISION_REQUEST,
  SECRET_PROVISION_RESPONSE,
} from "./secret-prov.ts";
