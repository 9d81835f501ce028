// trellisd: the Trellis server. Serves trillian.TrillianLog and
// trillian.TrillianAdmin (plus gRPC health and reflection) from an embedded
// RocksDB under --data_dir, and runs the sequencer. Loopback only unless
// --grpc_addr says otherwise. SIGTERM / SIGINT shut it down cleanly.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "admin/key_store.h"
#include "ca/x509.h"
#include "cmd/trellisd/server.h"
#include "config/flag_file.h"
#include "logging/log.h"
#include "quota/limit.h"
#include "util/file.h"

ABSL_FLAG(std::string, data_dir, "trellis-data",
          "Directory of the embedded RocksDB database (created if missing).");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:8090",
          "gRPC listen address; port 0 picks a free port.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once serving.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM server certificate chain (enables TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM server private key.");
ABSL_FLAG(
    std::string, tls_client_ca, "",
    "PEM CA bundle; when set, clients must present a certificate (mTLS).");
ABSL_FLAG(std::string, key_encryption_key_file, "",
          "File with a 32-byte key (raw or 64 hex digits) that encrypts tree "
          "private keys at rest (AES-256-GCM).");
ABSL_FLAG(std::string, pem_key_dir, "",
          "Directory from which CreateTree may load keyspb.PEMKeyFile keys; "
          "empty refuses PEMKeyFile.");
ABSL_FLAG(int, batch_size, 10000, "Most leaves a sequencer pass integrates.");
ABSL_FLAG(absl::Duration, sequencer_interval, absl::Milliseconds(50),
          "Pause between sequencer passes when the queues are drained.");
ABSL_FLAG(std::string, verifier_addr, "127.0.0.1:8881",
          "HTTPS address of the attestation verifier API (empty: off).");
ABSL_FLAG(std::string, verifier_port_file, "",
          "Write the verifier API's bound port here.");
ABSL_FLAG(std::string, verifier_tls_cert, "",
          "Verifier API certificate (PEM; default: self-signed, kept in the "
          "data directory).");
ABSL_FLAG(std::string, verifier_tls_key, "", "Verifier API private key.");
ABSL_FLAG(std::string, verifier_client_ca, "",
          "Require verifier API clients to present a certificate from this "
          "CA (mTLS).");
ABSL_FLAG(int64_t, attestation_log_id, 0,
          "Log tree for attestation verdicts (0: one made on first start).");
ABSL_FLAG(std::string, ek_ca_file, "",
          "PEM bundle of TPM manufacturer CAs that EK certificates must "
          "chain to.");
ABSL_FLAG(bool, require_ek_certificate, false,
          "Refuse TPMs without a verified EK certificate.");
ABSL_FLAG(absl::Duration, nonce_lifetime, absl::Minutes(5),
          "How long an attestation nonce stays valid.");
ABSL_FLAG(std::string, operator_client_ca, "",
          "PEM CA bundle of operators' client certificates: with it, tree "
          "writes, policy writes and host removal are accepted from clients "
          "with such a certificate (besides <data_dir>/operator.sock), and "
          "TrillianAdmin writes need one.");
ABSL_FLAG(std::string, operator_socket, "",
          "Path of the operator socket (gRPC, mode 0600); default "
          "<data_dir>/operator.sock.");
ABSL_FLAG(bool, insecure, false,
          "Allow plaintext gRPC on a non-loopback --grpc_addr.");
ABSL_FLAG(int64_t, max_body_bytes, 8 << 20,
          "Largest HTTP request body the verifier API accepts.");
ABSL_FLAG(int, max_connections_per_client, 64,
          "Open verifier API connections allowed per client IP.");
ABSL_FLAG(int, http_worker_threads, 2,
          "Threads that run verifier API requests (defaults suit 2 cores).");
ABSL_FLAG(int, max_leaves_per_request, 50000,
          "Most leaves accepted by one QueueLeaves/AddSequencedLeaves call.");
// Quotas of the log API (Trillian's specs): a token is a leaf written or an
// answer read; RATE[:BURST] tokens a second, empty for no limit.
ABSL_FLAG(trellis::quota::Limit, quota_global_write, {},
          "Leaves a second all log writers together may add, RATE[:BURST] "
          "(e.g. 20000:100000); empty: no limit. Beyond it, writes get "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(trellis::quota::Limit, quota_tree_write, {},
          "Leaves a second each log may take, RATE[:BURST]; empty: no "
          "limit.");
ABSL_FLAG(trellis::quota::TreeLimits, quota_tree_write_by_tree, {},
          "Per-tree write quotas replacing --quota_tree_write for the trees "
          "named: TREE_ID=RATE[:BURST],... (TREE_ID=0: no limit).");
ABSL_FLAG(trellis::quota::Limit, quota_user_write, {},
          "Leaves a second each user a call is charged to (charge_to) may "
          "add, RATE[:BURST]; empty: no limit.");
ABSL_FLAG(trellis::quota::Limit, quota_global_read, {},
          "Log answers (roots, proofs, leaves) a second for all readers "
          "together, RATE[:BURST]; empty: no limit.");
ABSL_FLAG(trellis::quota::Limit, quota_tree_read, {},
          "Log answers a second per log, RATE[:BURST]; empty: no limit.");
ABSL_FLAG(trellis::quota::Limit, quota_user_read, {},
          "Log answers a second per charge_to user, RATE[:BURST]; empty: no "
          "limit.");
ABSL_FLAG(bool, quota_dry_run, false,
          "Count calls beyond a quota in trellis_quota_refused_requests_total "
          "but let them through (to try limits on a running service).");
// Threads, queue limits and caches; the defaults suit 2 cores.
ABSL_FLAG(int, write_threads, trellis::ServerOptions().write_threads,
          "Threads that run log and map write RPCs (they wait for fsyncs, "
          "which concurrent writes share).");
ABSL_FLAG(uint64_t, max_queued_writes,
          trellis::log::LogServiceOptions().max_queued_writes,
          "Log write calls that may wait for a write thread (queued "
          "leaves: per log); more are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(uint64_t, max_leaves_per_queue_write,
          trellis::log::QueueCoalescerOptions().max_leaves_per_write,
          "Most leaves of concurrent QueueLeaves calls to one log written "
          "together in one synced write (a larger call is written alone).");
ABSL_FLAG(uint64_t, map_max_queued_writes,
          trellis::map::kDefaultMaxQueuedMapWrites,
          "Map write calls that may wait for a write thread.");
ABSL_FLAG(int, http_max_queued_requests,
          trellis::http::ServerOptions().max_queued_requests,
          "Verifier API requests that may wait for a worker thread; more "
          "get 503.");
ABSL_FLAG(uint64_t, block_cache_bytes,
          trellis::storage::rocksdb::kDefaultBlockCacheBytes,
          "RocksDB block cache.");
ABSL_FLAG(uint64_t, max_queued_bytes_per_log,
          trellis::storage::rocksdb::kDefaultMaxQueuedBytesPerLog,
          "Bytes of leaves a log holds (in memory) waiting for the "
          "sequencer; beyond, QueueLeaves answers RESOURCE_EXHAUSTED.");
ABSL_FLAG(uint64_t, log_tile_cache_bytes,
          trellis::storage::rocksdb::kDefaultLogTileCacheBytes,
          "In-memory cache of log Merkle tiles (filled as used).");
ABSL_FLAG(uint64_t, map_tile_cache_bytes,
          trellis::storage::rocksdb::kDefaultMapTileCacheBytes,
          "Each of the map's two in-memory caches of decoded tiles.");

ABSL_FLAG(std::string, spire_addr, trellis::SpireOptions().addr,
          "Address of the SPIRE server API that spire-agents use (TLS with "
          "the server's X509-SVID; port 0: a free port; empty: off).");
ABSL_FLAG(std::string, upstream_ca_cert, "",
          "PEM file of an upstream CA certificate (then its intermediates) "
          "that signs this server's CAs; with --upstream_ca_key.");
ABSL_FLAG(std::string, upstream_ca_key, "",
          "PEM file of the upstream CA's private key.");
ABSL_FLAG(std::string, upstream_bundle, "",
          "PEM file of the upstream roots (the trust domain's X.509 roots); "
          "empty: --upstream_ca_cert is a self-signed root.");
ABSL_FLAG(std::string, bundle_endpoint_addr, "",
          "Address of the SPIFFE bundle endpoint (the trust domain's bundle as "
          "a JWKS over HTTPS, authenticated by the server's X509-SVID: the "
          "https_spiffe profile) for federation; empty: off.");
ABSL_FLAG(std::string, bundle_endpoint_port_file, "",
          "Write the bundle endpoint's bound port here.");
ABSL_FLAG(std::string, gta_addr, "",
          "Address of the openEuler GTA-compatible service API (HTTPS; "
          "e.g. 127.0.0.1:8550; port 0: a free port; empty: off).");
ABSL_FLAG(std::string, gta_tls_cert, "",
          "GTA API certificate chain (PEM); empty: a self-signed one kept "
          "in <data_dir>/gta-tls/.");
ABSL_FLAG(std::string, gta_tls_key, "", "GTA API private key (PEM).");
ABSL_FLAG(std::string, gta_client_ca, "",
          "PEM CA file: GTA API callers must present a certificate it "
          "signed (empty: client certificates are not asked for).");
ABSL_FLAG(absl::Duration, gta_nonce_validity,
          trellis::GtaOptions().nonce_validity,
          "How long a GTA challenge nonce may be used.");
ABSL_FLAG(std::string, gta_token_algorithm, "PS256",
          "GTA token signature algorithm: PS256, PS384 or PS512.");
ABSL_FLAG(absl::Duration, gta_token_lifetime, absl::Hours(1),
          "How long a GTA attestation token is valid.");
ABSL_FLAG(bool, gta_require_api_key, false,
          "GTA callers must present the API-Key that GET register gave "
          "their User-Id.");
ABSL_FLAG(std::string, gta_vault_addr, "",
          "Address of GTA's key manager API (GET /v1/vault/get_signing_keys, "
          "POST /v1/vault/rotate?key=NSK|TSK|FSK): it returns private keys, "
          "so it is off unless given and needs --gta_vault_client_ca and "
          "--gta_vault_allowed_certs.");
ABSL_FLAG(std::string, gta_vault_client_ca, "",
          "PEM CA file of the key manager API's client certificates.");
ABSL_FLAG(std::string, gta_vault_allowed_certs, "",
          "PEM file of the client certificates allowed to call the key "
          "manager API.");
ABSL_FLAG(std::string, gta_vault_port_file, "",
          "Write the key manager API's bound port here.");
ABSL_FLAG(int, gta_token_key_primes, trellis::gta::TokenKeyShape().primes,
          "Prime factors of new GTA token signing keys: 3 (RFC 8017 "
          "multi-prime, twice as fast to sign, tokens unchanged for "
          "verifiers) or 2 (FIPS 186-5).");
ABSL_FLAG(int, gta_token_key_bits, trellis::gta::kDefaultKeyBits,
          "RSA size of new GTA token signing key versions: 2048, 3072 or "
          "4096 (signing is most of an attestation's cost).");
ABSL_FLAG(double, gta_rate_limit, 1000,
          "GTA API requests a second per client address (bursts of twice "
          "that); beyond it 429. 0: no limit.");
ABSL_FLAG(int, gta_policy_workers, 2,
          "Processes that evaluate users' Rego policies (a runaway policy "
          "costs one of them, never trellisd).");
ABSL_FLAG(absl::Duration, gta_policy_timeout, absl::Seconds(1),
          "Longest evaluation of a user's policy; longer ones fail and their "
          "worker is replaced.");
ABSL_FLAG(int, gta_policy_memory_mib, 1024,
          "Address space of each policy worker, in MiB.");
ABSL_FLAG(std::string, tlog_addr, "127.0.0.1:8091",
          "host:port of the C2SP tlog-tiles listener (checkpoints, tiles and "
          "entry bundles of every log under /logs/<tree id>/); port 0 picks "
          "one; empty: off.");
ABSL_FLAG(std::string, tlog_tls_cert, "",
          "tlog-tiles listener certificate chain (PEM); empty: plaintext "
          "(the content is public and signed).");
ABSL_FLAG(std::string, tlog_tls_key, "", "tlog-tiles listener key (PEM).");
ABSL_FLAG(std::string, explorer_dir, "",
          "The browser explorer's built files (scripts/build_explorer.sh "
          "makes explorer/dist), served under /explorer/ on the tlog "
          "listener; empty: only its JSON API.");
ABSL_FLAG(bool, explorer_evidence, false,
          "The explorer also serves stored attestation evidence by its "
          "digest, so that its pages can follow an SVID to the evidence "
          "behind it (evidence names a host's software).");
ABSL_FLAG(bool, explorer_maps, false,
          "The explorer serves every map's leaves with their proofs; without, "
          "only the identity map's (derived from logs the tiles publish).");
ABSL_FLAG(std::string, tlog_port_file, "",
          "If set, the tlog-tiles port is written here once listening.");
ABSL_FLAG(absl::Duration, checkpoint_interval, absl::Seconds(1),
          "How often each log's latest root is published as a checkpoint.");
ABSL_FLAG(std::string, checkpoint_origin_prefix,
          trellis::admin::TreeManager::kDefaultOriginPrefix,
          "Logs created without an origin get <prefix>/<tree id> as their "
          "checkpoint origin (and note key name); fixed at creation.");
ABSL_FLAG(absl::Duration, witness_timeout, absl::Seconds(5),
          "How long a log's witness has to answer add-checkpoint.");
ABSL_FLAG(std::string, witness_name, "",
          "Act as a C2SP tlog-witness under this name (POST /add-checkpoint "
          "on the tlog-tiles listener) for the logs in --witness_logs; the "
          "verifier key goes to <data_dir>/witness.vkey. Empty: not a "
          "witness.");
ABSL_FLAG(std::string, witness_logs, "",
          "File of the logs this witness cosigns: \"log <vkey> [url]\" "
          "lines (the tlog-policy syntax).");
ABSL_FLAG(std::string, metrics_addr, trellis::ServerOptions().metrics_addr,
          "host:port of the Prometheus /metrics listener (plain HTTP; port "
          "0 picks one; empty: off). Loopback unless you mean otherwise: "
          "metrics name trees and methods.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "If set, the metrics port is written here once listening.");
ABSL_FLAG(std::string, gta_port_file, "",
          "Write the GTA API's bound port here.");
ABSL_FLAG(std::string, spire_port_file, "",
          "Write the SPIRE API's bound port here.");
ABSL_FLAG(std::string, trust_domain, trellis::SpireOptions().trust_domain,
          "SPIFFE trust domain of the identities this server issues.");
ABSL_FLAG(std::string, ca_key_type, trellis::SpireOptions().ca_key_type,
          "Key type of the X.509 CA: ec-p256, ec-p384, rsa-2048 or rsa-4096.");
ABSL_FLAG(absl::Duration, ca_ttl, trellis::SpireOptions().ca_ttl,
          "Lifetime of each CA (rotated as upstream SPIRE rotates).");
ABSL_FLAG(absl::Duration, default_x509_svid_ttl,
          trellis::SpireOptions().default_x509_svid_ttl,
          "X509-SVID lifetime when an entry names none (also agent SVIDs).");

ABSL_FLAG(double, attestations_per_second,
          trellis::SpireOptions().attestations_per_second,
          "Node attestations allowed per client address and second on the "
          "SPIRE API (0: no limit).");

ABSL_FLAG(std::string, tpm_attestor_ek_ca_file, "",
          "Enables the `tpm` node attestor (bloomberg/spire-tpm-plugin's "
          "protocol): agents whose EK certificate chains to these PEM TPM "
          "manufacturer CAs attest.");
ABSL_FLAG(std::string, tpm_attestor_ek_hash_dir, "",
          "Enables the `tpm` node attestor: agents whose EK public-key hash "
          "(lowercase hex SHA-256 of its PKIX DER) names a file in this "
          "directory attest.");

ABSL_FLAG(std::vector<std::string>, feature_flags, {},
          "Experimental features, as SPIRE's feature_flags: Unified-Identity "
          "(sovereign attestation on the SPIRE API).");
ABSL_FLAG(std::string, sovereign_claims_oid, trellis::ca::kSovereignClaimsOid,
          "OID of the certificate extension carrying sovereign claims (the "
          "user's document names 1.3.6.1.4.1.99999.1); empty: phase-1 mode, "
          "claims only in API responses.");

ABSL_FLAG(std::string, sovereign_verifier_url, "",
          "https://HOST:PORT of a remote Keylime-compatible verifier (e.g. "
          "another trellisd) that appraises sovereign evidence instead of "
          "this process's verifier: nonces, host AKs and verdicts come from "
          "it and verdicts stay in its log.");
ABSL_FLAG(std::string, sovereign_verifier_ca, "",
          "PEM CA certificates that sign the remote verifier's certificate.");
ABSL_FLAG(std::string, sovereign_verifier_client_cert, "",
          "Client certificate (PEM) for mTLS to the remote verifier.");
ABSL_FLAG(std::string, sovereign_verifier_client_key, "",
          "Its private key (PEM).");

ABSL_FLAG(std::string, log_level, "info",
          "Least important log lines written: debug (adds one line per "
          "request), info, warning or error.");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines as text or json (one JSON object per line).");
ABSL_FLAG(std::string, log_file, "",
          "Append log lines to this file (created 0600) instead of stderr.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Trellis verifiable log server (Trillian-compatible gRPC API).");
  trellis::config::ParseCommandLineWithConfig(argc, argv, "trellisd");
  {
    absl::Status configured = trellis::logging::ConfigureFromText(
        absl::GetFlag(FLAGS_log_level), absl::GetFlag(FLAGS_log_format),
        absl::GetFlag(FLAGS_log_file));
    if (!configured.ok()) {
      std::fprintf(stderr, "trellisd: %s\n",
                   std::string(configured.message()).c_str());
      return 2;
    }
  }
  // Debian's abseil checks every Mutex acquisition for lock-order cycles,
  // which costs more than the work under many of our locks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  umask(077);  // Database files, keys included, readable by us only.
  // tpm2-tss's parsers would log every malformed structure a client sends;
  // the verifier reports them itself.
  setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);

  // Handle termination signals synchronously in this thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // Reopen --log_file (logrotate).
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  trellis::ServerOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.pem_key_dir = absl::GetFlag(FLAGS_pem_key_dir);
  options.operator_client_ca_file = absl::GetFlag(FLAGS_operator_client_ca);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.operator_socket = absl::GetFlag(FLAGS_operator_socket);
  options.attestation.operator_client_ca_file = options.operator_client_ca_file;
  options.attestation.http.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes);
  options.attestation.http.max_connections_per_client =
      absl::GetFlag(FLAGS_max_connections_per_client);
  options.attestation.http.worker_threads =
      absl::GetFlag(FLAGS_http_worker_threads);
  if (options.insecure) {
    trellis::logging::Warning(
        "trellisd",
        "--insecure: plaintext gRPC allowed; anyone on the network can read "
        "and (without --operator_client_ca) administer",
        {{"addr", options.grpc_addr}});
  }
  options.sequencer_batch_size = absl::GetFlag(FLAGS_batch_size);
  options.sequencer_interval = absl::GetFlag(FLAGS_sequencer_interval);
  options.log_manager_options.max_leaves_per_request =
      absl::GetFlag(FLAGS_max_leaves_per_request);
  options.quotas.global_write = absl::GetFlag(FLAGS_quota_global_write);
  options.quotas.tree_write = absl::GetFlag(FLAGS_quota_tree_write);
  options.quotas.tree_write_by_tree =
      absl::GetFlag(FLAGS_quota_tree_write_by_tree);
  options.quotas.user_write = absl::GetFlag(FLAGS_quota_user_write);
  options.quotas.global_read = absl::GetFlag(FLAGS_quota_global_read);
  options.quotas.tree_read = absl::GetFlag(FLAGS_quota_tree_read);
  options.quotas.user_read = absl::GetFlag(FLAGS_quota_user_read);
  options.quotas.dry_run = absl::GetFlag(FLAGS_quota_dry_run);
  options.write_threads = absl::GetFlag(FLAGS_write_threads);
  options.log_options.max_queued_writes =
      absl::GetFlag(FLAGS_max_queued_writes);
  options.map_max_queued_writes = absl::GetFlag(FLAGS_map_max_queued_writes);
  options.max_leaves_per_queue_write =
      absl::GetFlag(FLAGS_max_leaves_per_queue_write);
  options.attestation.http.max_queued_requests =
      absl::GetFlag(FLAGS_http_max_queued_requests);
  options.block_cache_bytes = absl::GetFlag(FLAGS_block_cache_bytes);
  options.log_tile_cache_bytes = absl::GetFlag(FLAGS_log_tile_cache_bytes);
  options.max_queued_bytes_per_log =
      absl::GetFlag(FLAGS_max_queued_bytes_per_log);
  options.map_tile_cache_bytes = absl::GetFlag(FLAGS_map_tile_cache_bytes);
  options.tlog.http.address = absl::GetFlag(FLAGS_tlog_addr);
  options.tlog.http.tls_cert_file = absl::GetFlag(FLAGS_tlog_tls_cert);
  options.tlog.http.tls_key_file = absl::GetFlag(FLAGS_tlog_tls_key);
  options.tlog.http.max_connections_per_client =
      absl::GetFlag(FLAGS_max_connections_per_client);
  options.tlog.http.worker_threads = absl::GetFlag(FLAGS_http_worker_threads);
  options.tlog.http.max_queued_requests =
      absl::GetFlag(FLAGS_http_max_queued_requests);
  // Tile requests carry no body; witness requests a checkpoint and a proof.
  options.tlog.http.max_body_bytes = 64 << 10;
  options.tlog.checkpoint_interval = absl::GetFlag(FLAGS_checkpoint_interval);
  options.tlog.origin_prefix = absl::GetFlag(FLAGS_checkpoint_origin_prefix);
  options.tlog.witness_timeout = absl::GetFlag(FLAGS_witness_timeout);
  options.tlog.explorer_dir = absl::GetFlag(FLAGS_explorer_dir);
  options.tlog.explorer_evidence = absl::GetFlag(FLAGS_explorer_evidence);
  options.tlog.explorer_maps = absl::GetFlag(FLAGS_explorer_maps);
  options.tlog.witness_name = absl::GetFlag(FLAGS_witness_name);
  options.tlog.witness_logs = absl::GetFlag(FLAGS_witness_logs);
  options.metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  options.gta.addr = absl::GetFlag(FLAGS_gta_addr);
  options.gta.tls_cert_file = absl::GetFlag(FLAGS_gta_tls_cert);
  options.gta.tls_key_file = absl::GetFlag(FLAGS_gta_tls_key);
  options.gta.client_ca_file = absl::GetFlag(FLAGS_gta_client_ca);
  options.gta.nonce_validity = absl::GetFlag(FLAGS_gta_nonce_validity);
  options.gta.tokens.algorithm = absl::GetFlag(FLAGS_gta_token_algorithm);
  options.gta.tokens.lifetime = absl::GetFlag(FLAGS_gta_token_lifetime);
  options.gta.require_api_key = absl::GetFlag(FLAGS_gta_require_api_key);
  options.gta.token_key.bits = absl::GetFlag(FLAGS_gta_token_key_bits);
  options.gta.token_key.primes = absl::GetFlag(FLAGS_gta_token_key_primes);
  options.gta.requests_per_second = absl::GetFlag(FLAGS_gta_rate_limit);
  options.gta.policy_sandbox.workers = absl::GetFlag(FLAGS_gta_policy_workers);
  options.gta.policy_sandbox.timeout = absl::GetFlag(FLAGS_gta_policy_timeout);
  options.gta.policy_sandbox.memory_limit_bytes =
      static_cast<size_t>(
          std::max(0, absl::GetFlag(FLAGS_gta_policy_memory_mib)))
      << 20;
  options.gta.vault_addr = absl::GetFlag(FLAGS_gta_vault_addr);
  options.gta.vault_client_ca = absl::GetFlag(FLAGS_gta_vault_client_ca);
  options.gta.vault_allowed_certs =
      absl::GetFlag(FLAGS_gta_vault_allowed_certs);
  options.attestation.addr = absl::GetFlag(FLAGS_verifier_addr);
  options.attestation.tls_cert_file = absl::GetFlag(FLAGS_verifier_tls_cert);
  options.attestation.tls_key_file = absl::GetFlag(FLAGS_verifier_tls_key);
  options.attestation.tls_client_ca_file =
      absl::GetFlag(FLAGS_verifier_client_ca);
  options.attestation.record_log_id = absl::GetFlag(FLAGS_attestation_log_id);
  options.attestation.registrar.ek_ca_file = absl::GetFlag(FLAGS_ek_ca_file);
  options.attestation.registrar.require_ek_certificate =
      absl::GetFlag(FLAGS_require_ek_certificate);
  options.attestation.nonce_lifetime = absl::GetFlag(FLAGS_nonce_lifetime);
  if (absl::GetFlag(FLAGS_batch_size) <= 0) {
    std::fprintf(stderr, "trellisd: --batch_size must be positive\n");
    return 2;
  }
  if (options.write_threads < 1 || options.log_options.max_queued_writes < 1 ||
      options.map_max_queued_writes < 1 ||
      options.max_leaves_per_queue_write < 1) {
    std::fprintf(stderr,
                 "trellisd: --write_threads, --max_queued_writes, "
                 "--map_max_queued_writes and --max_leaves_per_queue_write "
                 "must be positive\n");
    return 2;
  }
  if (const std::string kek_file = absl::GetFlag(FLAGS_key_encryption_key_file);
      !kek_file.empty()) {
    absl::StatusOr<std::string> kek =
        trellis::admin::KeyStore::ReadKekFile(kek_file);
    if (!kek.ok()) {
      std::fprintf(stderr, "trellisd: %s\n", kek.status().ToString().c_str());
      return 2;
    }
    options.kek = *kek;
  }

  options.spire.addr = absl::GetFlag(FLAGS_spire_addr);
  options.spire.trust_domain = absl::GetFlag(FLAGS_trust_domain);
  options.spire.bundle_endpoint_addr =
      absl::GetFlag(FLAGS_bundle_endpoint_addr);
  options.spire.upstream_ca_cert_file = absl::GetFlag(FLAGS_upstream_ca_cert);
  options.spire.upstream_ca_key_file = absl::GetFlag(FLAGS_upstream_ca_key);
  options.spire.upstream_bundle_file = absl::GetFlag(FLAGS_upstream_bundle);
  options.spire.ca_key_type = absl::GetFlag(FLAGS_ca_key_type);
  options.spire.ca_ttl = absl::GetFlag(FLAGS_ca_ttl);
  options.spire.default_x509_svid_ttl =
      absl::GetFlag(FLAGS_default_x509_svid_ttl);
  options.spire.attestations_per_second =
      absl::GetFlag(FLAGS_attestations_per_second);
  options.spire.tpm_attestor.ek_ca_file =
      absl::GetFlag(FLAGS_tpm_attestor_ek_ca_file);
  options.spire.tpm_attestor.ek_hash_dir =
      absl::GetFlag(FLAGS_tpm_attestor_ek_hash_dir);
  for (const std::string& feature : absl::GetFlag(FLAGS_feature_flags)) {
    if (feature != "Unified-Identity") {
      std::fprintf(stderr, "trellisd: unknown feature flag \"%s\"\n",
                   feature.c_str());
      return 2;
    }
    options.spire.sovereign.enabled = true;
  }
  options.spire.sovereign.claims_oid =
      absl::GetFlag(FLAGS_sovereign_claims_oid);
  options.spire.sovereign_verifier.url =
      absl::GetFlag(FLAGS_sovereign_verifier_url);
  options.spire.sovereign_verifier.ca_file =
      absl::GetFlag(FLAGS_sovereign_verifier_ca);
  options.spire.sovereign_verifier.client_cert_file =
      absl::GetFlag(FLAGS_sovereign_verifier_client_cert);
  options.spire.sovereign_verifier.client_key_file =
      absl::GetFlag(FLAGS_sovereign_verifier_client_key);

  absl::StatusOr<std::unique_ptr<trellis::Server>> server =
      trellis::Server::Start(options);
  if (!server.ok()) {
    trellis::logging::Error("trellisd", "cannot start",
                            {{"error", server.status().ToString()}});
    return 1;
  }
  trellis::logging::Info(
      "trellisd", "serving",
      {{"grpc_port", absl::StrCat((*server)->port())},
       {"verifier_port", absl::StrCat((*server)->verifier_port())},
       {"spire_port", absl::StrCat((*server)->spire_port())},
       {"trust_domain", options.spire.trust_domain},
       {"gta_port", absl::StrCat((*server)->gta_port())},
       {"tlog_port", absl::StrCat((*server)->tlog_port())},
       {"metrics_port", absl::StrCat((*server)->metrics_port())},
       {"data_dir", options.data_dir}});
  // Written via rename so readers never see a partial file.
  auto write_port = [](const std::string& file, int port) {
    if (file.empty()) return;
    if (absl::Status s =
            trellis::ReplaceFile(file, absl::StrCat(port, "\n"), 0644);
        !s.ok()) {
      trellis::logging::Error("trellisd", "cannot write a port file",
                              {{"error", s.ToString()}});
    }
  };
  // The verifier's first: a reader of the gRPC port file finds both.
  write_port(absl::GetFlag(FLAGS_verifier_port_file),
             (*server)->verifier_port());
  write_port(absl::GetFlag(FLAGS_spire_port_file), (*server)->spire_port());
  write_port(absl::GetFlag(FLAGS_gta_port_file), (*server)->gta_port());
  write_port(absl::GetFlag(FLAGS_tlog_port_file), (*server)->tlog_port());
  write_port(absl::GetFlag(FLAGS_metrics_port_file), (*server)->metrics_port());
  write_port(absl::GetFlag(FLAGS_gta_vault_port_file),
             (*server)->gta_vault_port());
  write_port(absl::GetFlag(FLAGS_bundle_endpoint_port_file),
             (*server)->bundle_endpoint_port());
  write_port(absl::GetFlag(FLAGS_port_file), (*server)->port());

  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    if (absl::Status s = trellis::logging::Reopen(); !s.ok()) {
      trellis::logging::Error("trellisd", "cannot reopen the log file",
                              {{"error", s.ToString()}});
    } else {
      trellis::logging::Info("trellisd", "log file reopened");
    }
  }
  trellis::logging::Info("trellisd", "shutting down",
                         {{"signal", absl::StrCat(received)}});
  (*server)->Shutdown(absl::Seconds(5));
  trellis::logging::Info("trellisd", "stopped");
  return 0;
}
