/**
 * A second process for the RA-TLS gRPC test: a simulated enclave (MRENCLAVE a2…) serving
 * PeerIdentityService over mutual RA-TLS, accepting callers with MRENCLAVE c1…. Prints its port.
 */

import { createRaTlsGrpcServer, peerIdentityKey } from "@keyward/channels/grpc";
import { PeerIdentityService } from "@keyward/proto/keyward/v1";
import { enclaveCredential, platformIn, verifierFor } from "./fixture.ts";

const platform = platformIn(process.argv[2] ?? "");
const credential = await enclaveCredential(platform, 0xa2);
const server = createRaTlsGrpcServer(
  { credential, peerVerifier: verifierFor(platform, [0xc1]) },
  (router) => {
    router.service(PeerIdentityService, {
      whoAmI(_req, ctx) {
        const peer = ctx.values.get(peerIdentityKey);
        const c = peer?.verified.claims;
        return {
          tee: peer?.verified.tee ?? "",
          platform: peer?.verified.platform ?? "",
          mrEnclave: c?.tee === "sgx" ? c.mrEnclave : new Uint8Array(),
          mrSigner: c?.tee === "sgx" ? c.mrSigner : new Uint8Array(),
          isvProdId: c?.tee === "sgx" ? c.isvProdId : 0,
          isvSvn: c?.tee === "sgx" ? c.isvSvn : 0,
          tcbStatus: peer?.verified.tcbStatus ?? "",
          evidenceFormat: peer?.format ?? "",
        };
      },
    });
  },
);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address !== null ? address.port : 0}\n`);
});
