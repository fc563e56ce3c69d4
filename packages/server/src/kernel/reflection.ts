/**
 * gRPC server reflection (`grpc.reflection.v1` and `v1alpha`, grpc/grpc doc/server-reflection.md)
 * for the services of one listener, so that `grpcurl` lists, describes and calls them without
 * .proto files. The descriptors served are the ones the service was generated from (each file's
 * FileDescriptorProto as embedded in @keyward/proto), with their transitive dependencies.
 *
 * Answers per request of the stream: `list_services`; `file_by_filename`;
 * `file_containing_symbol` (a package-qualified service, method, message, enum or extension name) —
 * the file, then each dependency not yet sent on this stream (as grpc-go's server does);
 * `file_containing_extension` and `all_extension_numbers_of_type` for the extensions the files
 * declare; anything else an `error_response` (NOT_FOUND / INVALID_ARGUMENT), never a broken stream.
 *
 * @module
 */
import {
  type DescFile,
  type DescMessage,
  type DescService,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponseSchema,
  ServerReflectionV1Alpha,
} from "@keyward/proto/grpc";

/** Requests one stream may make (a client browsing a listener needs a few dozen). */
const MAX_REQUESTS_PER_STREAM = 1024;

interface Index {
  readonly services: readonly string[];
  readonly files: ReadonlyMap<string, DescFile>;
  readonly symbols: ReadonlyMap<string, DescFile>;
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, DescFile>>;
}

function indexOf(services: readonly DescService[]): Index {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const addMessage = (m: DescMessage, f: DescFile) => {
    symbols.set(m.typeName, f);
    for (const n of m.nestedMessages) addMessage(n, f);
    for (const e of m.nestedEnums) symbols.set(e.typeName, f);
    for (const x of m.nestedExtensions) symbols.set(x.typeName, f);
  };
  const addFile = (f: DescFile) => {
    if (files.has(f.proto.name)) return;
    files.set(f.proto.name, f);
    for (const m of f.messages) addMessage(m, f);
    for (const e of f.enums) symbols.set(e.typeName, f);
    for (const s of f.services) {
      symbols.set(s.typeName, f);
      for (const m of s.methods) symbols.set(`${s.typeName}.${m.name}`, f);
    }
    for (const x of f.extensions) {
      symbols.set(x.typeName, f);
      const byNumber = extensions.get(x.extendee.typeName) ?? new Map<number, DescFile>();
      byNumber.set(x.number, f);
      extensions.set(x.extendee.typeName, byNumber);
    }
    for (const d of f.dependencies) addFile(d);
  };
  for (const s of services) addFile(s.file);
  return { services: [...new Set(services.map((s) => s.typeName))].sort(), files, symbols, extensions };
}

type Answer = NonNullable<MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]>;

/** The answer to one reflection request; `sent` holds the files already sent on this stream. */
function answer(index: Index, req: ServerReflectionRequest, sent: Set<string>): Answer {
  const files = (f: DescFile | undefined, what: string): Answer => {
    if (f === undefined)
      return {
        case: "errorResponse",
        value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
      };
    const out: Uint8Array[] = [];
    const visit = (d: DescFile, requested: boolean) => {
      if (!requested && sent.has(d.proto.name)) return;
      sent.add(d.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, d.proto));
      for (const dep of d.dependencies) visit(dep, false);
    };
    visit(f, true);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  };
  const m = req.messageRequest;
  switch (m.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.services.map((name) => ({ name })) },
      };
    case "fileByFilename":
      return files(index.files.get(m.value), `file ${JSON.stringify(m.value.slice(0, 256))}`);
    case "fileContainingSymbol":
      return files(index.symbols.get(m.value), `symbol ${JSON.stringify(m.value.slice(0, 256))}`);
    case "fileContainingExtension":
      return files(
        index.extensions.get(m.value.containingType)?.get(m.value.extensionNumber),
        `extension ${m.value.extensionNumber} of ${JSON.stringify(m.value.containingType.slice(0, 256))}`,
      );
    case "allExtensionNumbersOfType": {
      if (!index.symbols.has(m.value))
        return {
          case: "errorResponse",
          value: { errorCode: Code.NotFound, errorMessage: "type not found" },
        };
      const numbers = [...(index.extensions.get(m.value)?.keys() ?? [])].sort((a, b) => a - b);
      return {
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: m.value, extensionNumber: numbers },
      };
    }
    default:
      return {
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "no request" },
      };
  }
}

/**
 * Registers server reflection (v1 and v1alpha) for `services` and the reflection and any other
 * `extra` services served beside them.
 */
export function reflectionRoutes(services: readonly DescService[]): (router: ConnectRouter) => void {
  const index = indexOf([...services, ServerReflection, ServerReflectionV1Alpha]);
  async function* info(requests: AsyncIterable<ServerReflectionRequest>) {
    const sent = new Set<string>();
    let n = 0;
    for await (const req of requests) {
      if (++n > MAX_REQUESTS_PER_STREAM) return;
      yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req, sent) };
    }
  }
  return (router) => {
    router.service(ServerReflection, { serverReflectionInfo: info });
    // v1alpha has the same messages under another package: the wire bytes are the same.
    router.service(ServerReflectionV1Alpha, { serverReflectionInfo: info as never });
  };
}
