// Trellis' records (proto/trellis_*.proto), decoded in the page from the
// leaf bytes it verified, so nothing shown about a verdict or an SVID is
// taken from the server's word. A small protobuf wire reader driven by the
// field numbers of each message; checked against protoc's encoding.

export class RecordError extends Error {}

type Scalar = "string" | "bytes" | "int64" | "uint64" | "bool" | "enum";
interface Field {
  name: string;
  kind: Scalar | Schema;
  repeated?: boolean;
  values?: string[];  // An enum's names by number.
}
type Schema = Record<number, Field>;

export type Value = string | bigint | boolean | Uint8Array | Message | Value[];
export interface Message {
  [name: string]: Value;
}

const MAX_DEPTH = 8;

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}
  done() {
    return this.at >= this.bytes.length;
  }
  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done()) throw new RecordError("truncated varint");
      const byte = this.bytes[this.at++];
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value & 0xffffffffffffffffn;
    }
    throw new RecordError("varint too long");
  }
  take(length: bigint): Uint8Array {
    if (length > BigInt(this.bytes.length - this.at)) {
      throw new RecordError("truncated field");
    }
    const out = this.bytes.subarray(this.at, this.at + Number(length));
    this.at += Number(length);
    return out;
  }
}

const DEFAULTS: Record<Scalar, (field: Field) => Value> = {
  string: () => "",
  bytes: () => new Uint8Array(),
  int64: () => 0n,
  uint64: () => 0n,
  bool: () => false,
  enum: (field) => field.values?.[0] ?? "0",
};

const utf8 = new TextDecoder("utf-8", {fatal: true});

// The raw bytes of the last length-delimited field `number` of a message,
// or null (what a record hashes to must be checked on the bytes sent).
export function rawField(bytes: Uint8Array, number: number): Uint8Array | null {
  let found: Uint8Array | null = null;
  for (const [n, wireType, raw] of fields(bytes)) {
    if (n === number && wireType === 2) found = raw as Uint8Array;
  }
  return found;
}

// Each field of a message: its number, wire type and raw value.
function* fields(bytes: Uint8Array): Generator<[number, number, bigint | Uint8Array]> {
  const reader = new Reader(bytes);
  while (!reader.done()) {
    const tag = reader.varint();
    const wireType = Number(tag & 7n);
    switch (wireType) {
      case 0: yield [Number(tag >> 3n), wireType, reader.varint()]; break;
      case 1: yield [Number(tag >> 3n), wireType, reader.take(8n)]; break;
      case 2: yield [Number(tag >> 3n), wireType, reader.take(reader.varint())]; break;
      case 5: yield [Number(tag >> 3n), wireType, reader.take(4n)]; break;
      default: throw new RecordError(`wire type ${wireType} is not supported`);
    }
  }
}

function decode(bytes: Uint8Array, schema: Schema, depth: number): Message {
  if (depth > MAX_DEPTH) throw new RecordError("nested too deeply");
  const out: Message = {};
  // Proto3 leaves defaults out of the wire; messages stay absent.
  for (const field of Object.values(schema)) {
    if (field.repeated) out[field.name] = [];
    else if (typeof field.kind !== "object") out[field.name] = DEFAULTS[field.kind](field);
  }
  const seen = new Set<number>();
  for (const [number, wireType, raw] of fields(bytes)) {
    const field = schema[number];
    if (field === undefined) continue;  // A newer field: skipped, as protobuf does.
    const expected = typeof field.kind === "object" ||
        field.kind === "string" || field.kind === "bytes" ? 2 : 0;
    if (wireType !== expected) {
      throw new RecordError(`field ${field.name} has the wrong wire type`);
    }
    let value: Value;
    if (typeof field.kind === "object") {
      value = decode(raw as Uint8Array, field.kind, depth + 1);
    } else if (field.kind === "string") {
      try {
        value = utf8.decode(raw as Uint8Array);
      } catch {
        throw new RecordError(`field ${field.name} is not UTF-8`);
      }
    } else if (field.kind === "bytes") {
      value = (raw as Uint8Array).slice();
    } else if (field.kind === "bool") {
      value = raw !== 0n;
    } else if (field.kind === "enum") {
      value = field.values?.[Number(raw)] ?? String(BigInt.asIntN(32, raw as bigint));
    } else if (field.kind === "uint64") {
      value = raw as bigint;
    } else {
      value = BigInt.asIntN(64, raw as bigint);
    }
    if (field.repeated) {
      (out[field.name] as Value[]).push(value);
    } else if (typeof field.kind === "object" && seen.has(number)) {
      // Protobuf would merge the two; Trellis never sends a message twice.
      throw new RecordError(`field ${field.name} is sent twice`);
    } else {
      out[field.name] = value;
    }
    seen.add(number);
  }
  return out;
}

const CHECK_OUTCOME: Schema = {
  1: {name: "name", kind: "string"},
  2: {name: "passed", kind: "bool"},
  3: {name: "detail", kind: "string"},
};

const ATTESTATION_RECORD: Schema = {
  1: {name: "type", kind: "string"},
  2: {name: "time_unix_nanos", kind: "int64"},
  3: {name: "host_id", kind: "string"},
  4: {name: "ak_name", kind: "bytes"},
  5: {name: "attest_digest", kind: "bytes"},
  6: {name: "evidence_digest", kind: "bytes"},
  7: {name: "nonce", kind: "bytes"},
  8: {name: "policy_id", kind: "string"},
  9: {name: "policy_version", kind: "int64"},
  10: {name: "policy_digest", kind: "bytes"},
  11: {name: "reference_values_version", kind: "int64"},
  12: {name: "verifier_version", kind: "string"},
  13: {name: "checks", kind: CHECK_OUTCOME, repeated: true},
  14: {name: "verified", kind: "bool"},
  15: {name: "host_integrity_status", kind: "string"},
  16: {name: "attested_claims_json", kind: "string"},
};

const ISSUANCE_RECORD: Schema = {
  1: {name: "type", kind: "string"},
  2: {name: "time_unix_nanos", kind: "int64"},
  3: {name: "kind", kind: "enum", values: [
    "KIND_UNSPECIFIED", "X509_SVID", "JWT_SVID", "AGENT_X509_SVID",
    "DOWNSTREAM_X509_CA"]},
  4: {name: "spiffe_id", kind: "string"},
  5: {name: "serial_number", kind: "string"},
  6: {name: "credential_sha256", kind: "bytes"},
  7: {name: "not_before", kind: "int64"},
  8: {name: "not_after", kind: "int64"},
  9: {name: "issuer_key_id", kind: "bytes"},
  10: {name: "entry_id", kind: "string"},
  11: {name: "agent_id", kind: "string"},
  12: {name: "attestation_type", kind: "string"},
  13: {name: "attestation_audit_id", kind: "string"},
  14: {name: "attestation_log_id", kind: "int64"},
  15: {name: "attestation_verifier", kind: "string"},
};

const GTA_CHANGE_RECORD: Schema = {
  1: {name: "type", kind: "string"},
  2: {name: "time_unix_nanos", kind: "int64"},
  3: {name: "user_id", kind: "string"},
  4: {name: "resource", kind: "string"},
  5: {name: "action", kind: "string"},
  6: {name: "resource_id", kind: "string"},
  7: {name: "version", kind: "uint64"},
  8: {name: "content_sha256", kind: "bytes"},
  9: {name: "name", kind: "string"},
  10: {name: "status", kind: "string"},
  11: {name: "policy_ids", kind: "string", repeated: true},
  12: {name: "attester_types", kind: "string", repeated: true},
};

const IDENTITY_MAP_VALUE: Schema = {
  1: {name: "issuance_log_id", kind: "int64"},
  2: {name: "leaf_index", kind: "int64"},
  3: {name: "leaf_hash", kind: "bytes"},
  4: {name: "record", kind: ISSUANCE_RECORD},
  5: {name: "verdict_leaf", kind: "bytes"},
};

// Which record each of trellisd's record logs holds (by display name), and
// the type string its records carry.
export const RECORD_LOGS: Record<string, {schema: Schema; type: string}> = {
  "trellis-attestations": {schema: ATTESTATION_RECORD, type: "trellis.attestation.v1"},
  "trellis-issuance": {schema: ISSUANCE_RECORD, type: "trellis.issuance.v1"},
  "trellis-gta": {schema: GTA_CHANGE_RECORD, type: "trellis.gta.change.v1"},
};

function decodeTyped(bytes: Uint8Array, schema: Schema, type: string): Message {
  let message: Message;
  try {
    message = decode(bytes, schema, 0);
  } catch (e) {
    throw new RecordError(`not a ${type} record: ${(e as Error).message}`);
  }
  if (message.type !== type) throw new RecordError(`not a ${type} record`);
  return message;
}

export function decodeRecord(logName: string, bytes: Uint8Array): Message {
  const log = RECORD_LOGS[logName];
  if (log === undefined) throw new RecordError(`${logName} is not a record log`);
  return decodeTyped(bytes, log.schema, log.type);
}

export function decodeAttestationRecord(bytes: Uint8Array): Message {
  return decodeTyped(bytes, ATTESTATION_RECORD, "trellis.attestation.v1");
}

export function decodeIdentityMapValue(bytes: Uint8Array): Message {
  const value = decode(bytes, IDENTITY_MAP_VALUE, 0);
  const record = value.record as Message | undefined;
  if (record === undefined || record.type !== "trellis.issuance.v1") {
    throw new RecordError("the map value holds no issuance record");
  }
  return value;
}
