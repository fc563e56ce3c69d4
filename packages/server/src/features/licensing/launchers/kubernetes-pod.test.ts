import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkRequest,
  checkSettings,
  enclavePod,
  instanceOf,
  labelHash,
  podName,
  selectorOf,
  startFailure,
} from "./kubernetes-pod.ts";
import type { LaunchRequest } from "./launcher.ts";

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const base: LaunchRequest = { userId: "u", licenceId: "l", enclave: { image: "app:1", port: 8443 } };

describe("enclave pod manifest", () => {
  it("names and labels any user and licence id validly, and distinguishes them (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        (userId, licenceId, instance) => {
          const r = { ...base, userId, licenceId, instance };
          checkRequest(r);
          const pod = enclavePod({ namespace: "ns", launcherId: "l1" }, r);
          assert.match(pod.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
          for (const v of Object.values(pod.metadata?.labels ?? {})) assert.match(v, LABEL_VALUE);
          assert.equal(pod.metadata?.annotations?.["keyward.dev/user-id"], userId);
          assert.notEqual(podName("l1", r), podName("l2", r), "another installation names it differently");
          assert.notEqual(podName("l1", r), podName("l1", { ...r, instance: `${instance}x` }));
        },
      ),
      { numRuns: 300 },
    );
    assert.notEqual(labelHash("user", "a"), labelHash("licence", "a"), "hashes are domain-separated");
    assert.equal(
      selectorOf("l1", { userId: "a" }),
      `app.kubernetes.io/managed-by=keyward-licensing,keyward.dev/launcher=l1,keyward.dev/user=${labelHash("user", "a")}`,
    );
  });

  it("refuses bad settings and requests with ERR_LAUNCHER_CONFIG naming the field", () => {
    const settings: [Parameters<typeof checkSettings>[0], string][] = [
      [{ namespace: "Bad", launcherId: "x" }, "namespace"],
      [{ namespace: "ns", launcherId: "" }, "launcherId"],
      [{ namespace: "ns", launcherId: "has space" }, "launcherId"],
      [{ namespace: "ns", launcherId: "x", epc: "64 Mi" }, "epc"],
      [{ namespace: "ns", launcherId: "x", gracePeriodSeconds: -1 }, "gracePeriodSeconds"],
    ];
    for (const [s, field] of settings)
      assert.throws(
        () => checkSettings(s),
        (e: { code: string; detail: { field: string } }) =>
          e.code === "ERR_LAUNCHER_CONFIG" && e.detail.field === field,
      );
    const requests: [LaunchRequest, string][] = [
      [{ ...base, userId: "" }, "userId"],
      [{ ...base, licenceId: "x".repeat(257) }, "licenceId"],
      [{ ...base, enclave: { image: "UPPER CASE", port: 1 } }, "enclave.image"],
      [{ ...base, enclave: { image: "a:1", port: 0 } }, "enclave.port"],
      [{ ...base, enclave: { image: "a:1", port: 1, env: { "BAD-NAME": "x" } } }, "enclave.env"],
    ];
    for (const [r, field] of requests)
      assert.throws(
        () => checkRequest(r),
        (e: { code: string; detail: { field: string } }) =>
          e.code === "ERR_LAUNCHER_CONFIG" && e.detail.field === field,
      );
  });

  it("reads a pod's state: starting, ready, terminated with a reason, stopping", () => {
    const pod = enclavePod({ namespace: "ns", launcherId: "x" }, base);
    assert.equal(instanceOf(pod, 8443).state, "starting");
    assert.equal(
      instanceOf(
        { ...pod, status: { podIP: "10.0.0.9", conditions: [{ type: "Ready", status: "True" }] } },
        undefined,
      ).address?.host,
      "10.0.0.9",
    );
    assert.equal(startFailure({ ...pod, status: { phase: "Failed", reason: "Evicted" } }), "Evicted");
    assert.equal(
      startFailure({
        ...pod,
        status: {
          containerStatuses: [
            {
              name: "enclave",
              image: "a",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: "ErrImagePull" } },
            },
          ],
        },
      }),
      "ErrImagePull",
    );
    assert.equal(
      startFailure({
        ...pod,
        status: {
          containerStatuses: [
            {
              name: "enclave",
              image: "a",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: "ContainerCreating" } },
            },
          ],
        },
      }),
      undefined,
    );
    assert.match(
      startFailure({
        ...pod,
        status: {
          conditions: [
            {
              type: "PodScheduled",
              status: "False",
              reason: "Unschedulable",
              message: "0/3 nodes have sgx.intel.com/epc",
            },
          ],
        },
      }) ?? "",
      /^Unschedulable: 0\/3/,
    );
    assert.equal(
      instanceOf({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } }, 1).state,
      "stopping",
    );
  });
});
