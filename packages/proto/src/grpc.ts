/**
 * The standard gRPC services Keyward serves beside its own: health checking (`grpc.health.v1`) and
 * server reflection (`grpc.reflection.v1` and `v1alpha`), from grpc/grpc-proto's definitions
 * (generated code under gen/, committed).
 */

export type {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthListRequest,
  HealthListResponse,
} from "./gen/grpc/health/v1/health_pb.ts";
export {
  file_grpc_health_v1_health,
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "./gen/grpc/health/v1/health_pb.ts";
export type {
  ServerReflectionRequest,
  ServerReflectionResponse,
} from "./gen/grpc/reflection/v1/reflection_pb.ts";
export {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "./gen/grpc/reflection/v1/reflection_pb.ts";
export {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as ServerReflectionRequestV1AlphaSchema,
  ServerReflectionResponseSchema as ServerReflectionResponseV1AlphaSchema,
} from "./gen/grpc/reflection/v1alpha/reflection_pb.ts";
