// trellis-tpm: the host side of Trellis attestation. Talks to the TPM
// through tpm2-tss (--tcti: "device:/dev/tpmrm0", "tabrmd",
// "swtpm:host=127.0.0.1,port=2321") and keeps its keys in --work_dir.
//
//   trellis-tpm create-ek-ak [--algorithm=ecc|rsa]      JSON: EK, AK, names
//   trellis-tpm generate-app-key                        JSON: app key PEM
//   trellis-tpm generate-quote --nonce=HEX [--pcrs=sha256:0,1,...]
//                                                       Keylime quote string
//   trellis-tpm certify-app-key [--app_key_context=PATH] [--nonce=HEX]
//                                                       base64 certificate
//   trellis-tpm activate-credential --credential=B64 --secret=B64
//                                                       base64 secret
//   trellis-tpm register --verifier=https://HOST:PORT --host_id=ID
//               [--verifier_ca=PEM]                     registers EK + AK
//   trellis-tpm attest --verifier=https://HOST:PORT --host_id=ID
//               [--verifier_ca=PEM] [--ima=FILE] [--boot_log=FILE]
//               [--geolocation=COUNTRY,LAT,LON] [--json]
//                                                       the whole exchange:
//                     keys and registration on first use, nonce, quote, app
//                     key certification, evidence, verdict (exit 0 only if
//                     verified), each check and the audit id
//   trellis-tpm serve [--listen=127.0.0.1:9002] [--unix=PATH]
//                                                       the same over HTTP,
//                     and GTA's agent API (/global-trust-authority/agent/v1:
//                     evidences; tokens with --gta_service)
//
// Exit status: 0 success, 1 the operation failed, 2 bad usage.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "attest/host/agent_http.h"
#include "attest/host/host_agent.h"
#include "attest/host/host_attestation.h"
#include "attest/host/registration.h"
#include "attest/host/tpm_device.h"
#include "config/flag_file.h"
#include "gta/agent/agent_http.h"
#include "gta/agent/evidence_collector.h"
#include "gta/agent/gta_agent.h"
#include "gta/client/service_client.h"
#include "http/server.h"
#include "logging/http_request_log.h"
#include "logging/log.h"
#include "metrics/exposition.h"
#include "metrics/http_metrics.h"
#include "prometheus/registry.h"
#include "util/file.h"

ABSL_FLAG(std::string, tcti, "device:/dev/tpmrm0",
          "tpm2-tss TCTI configuration of the TPM.");
ABSL_FLAG(std::string, work_dir, "trellis-tpm-data",
          "Where the AK and app keys are kept (TPM-wrapped).");
ABSL_FLAG(std::string, algorithm, "ecc", "create-ek-ak: AK type, ecc or rsa.");
ABSL_FLAG(std::string, ek_algorithm, "rsa",
          "create-ek-ak: which TCG default EK, rsa or ecc.");
ABSL_FLAG(std::string, nonce, "", "The verifier's nonce, hex.");
ABSL_FLAG(std::string, pcrs, "sha256:0,1,2,3,4,5,6,7,10",
          "generate-quote: PCRs to quote, BANK:N,N,...[+BANK:...].");
ABSL_FLAG(std::string, app_key_context, "",
          "certify-app-key: key context (default WORK_DIR/app.ctx).");
ABSL_FLAG(std::string, credential, "",
          "activate-credential: TPM2B_ID_OBJECT, base64.");
ABSL_FLAG(std::string, secret, "",
          "activate-credential: TPM2B_ENCRYPTED_SECRET, base64.");
ABSL_FLAG(std::string, listen, "127.0.0.1:9002",
          "serve: HOST:PORT (loopback unless you mean otherwise).");
ABSL_FLAG(std::string, unix, "",
          "serve: also answer on this Unix domain socket (mode 0600).");
ABSL_FLAG(std::string, port_file, "",
          "serve: write the bound port here (with --listen=HOST:0).");
ABSL_FLAG(bool, delegated_certification, true,
          "serve: answer certify_app_key (403 when off).");
ABSL_FLAG(std::string, verifier, "https://127.0.0.1:8881",
          "register: the Trellis verifier's URL.");
ABSL_FLAG(std::string, verifier_ca, "",
          "register: PEM CA of the verifier's certificate (for trellisd's "
          "self-signed one: <data_dir>/verifier-tls/cert.pem).");
ABSL_FLAG(std::string, client_cert, "", "register: mTLS client certificate.");
ABSL_FLAG(std::string, client_key, "", "register: mTLS client key.");
ABSL_FLAG(std::string, host_id, "", "register: this host's identifier.");
ABSL_FLAG(bool, verbose, false, "Show tpm2-tss's own log.");
ABSL_FLAG(std::string, ima, "",
          "attest: the IMA runtime measurement list (ASCII) to send; by "
          "default --ima_log if this host lets us read it.");
ABSL_FLAG(std::string, geolocation, "",
          "attest: the host's claimed location, COUNTRY,LATITUDE,LONGITUDE; "
          "TPM-attested if the host bound it into --geolocation_pcr.");
ABSL_FLAG(int, geolocation_pcr, 15,
          "attest: the PCR the host binds its geolocation into (quoted with "
          "--geolocation).");
ABSL_FLAG(bool, json, false, "attest: print the verdict as JSON.");
ABSL_FLAG(std::string, metrics_addr, "",
          "serve: host:port of a Prometheus /metrics listener (plain HTTP; "
          "port 0 picks one); empty: off.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "serve: write the metrics listener's bound port here.");
ABSL_FLAG(std::string, log_level, "info",
          "serve: least important log lines written: debug (adds one line "
          "per request), info, warning or error.");
ABSL_FLAG(std::string, log_format, "text",
          "serve: log lines as text or json (one JSON object per line).");
ABSL_FLAG(std::string, log_file, "",
          "serve: append log lines to this file (created 0600; reopened on "
          "SIGHUP) instead of stderr.");
ABSL_FLAG(std::vector<std::string>, gta_ak_certs, {},
          "serve: PEM files of the AK's certificate and its intermediates "
          "(the AK's first), sent as GTA evidence's ak_certs.");
ABSL_FLAG(std::string, gta_ak_cert_type, "aik",
          "serve: cert_type of those ak_certs (aik, iak or lak).");
ABSL_FLAG(std::string, boot_log, trellis::gta::agent::kDefaultBootLog,
          "serve: the TCG boot event log sent as tpm_boot evidence (empty: "
          "none).");
ABSL_FLAG(std::string, ima_log, trellis::gta::agent::kDefaultImaLog,
          "serve: the IMA list (ascii_runtime_measurements) sent as tpm_ima "
          "evidence (empty: no tpm_ima).");
ABSL_FLAG(std::string, node_id, "",
          "serve: the node_id of GTA measurements (default: the host name).");
ABSL_FLAG(std::string, gta_service, "",
          "serve: https://HOST:PORT of the GTA service API that /tokens "
          "attests to (Trellis' --gta_addr); empty: /tokens is off.");
ABSL_FLAG(std::string, gta_service_ca, "",
          "serve: PEM CA of the GTA service's certificate (for trellisd's "
          "self-signed one: <data_dir>/gta-tls/cert.pem).");
ABSL_FLAG(std::string, gta_user_id, "",
          "serve: the User-Id the agent attests as.");
ABSL_FLAG(std::string, gta_api_key_file, "",
          "serve: a file holding that user's API-Key (when the service "
          "requires keys).");

namespace {

using trellis::attest::host::HostAgent;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "trellis-tpm: %s\n", status.ToString().c_str());
  return 1;
}

// GTA's agent API for `agent`'s TPM, from the flags.
struct GtaAgentParts {
  std::unique_ptr<trellis::gta::agent::EvidenceCollector> collector;
  std::unique_ptr<trellis::gta::client::ServiceClient> service;
  std::unique_ptr<trellis::gta::agent::GtaAgent> agent;
};

absl::StatusOr<GtaAgentParts> MakeGtaAgent(HostAgent& agent) {
  namespace gta = trellis::gta::agent;
  GtaAgentParts parts;
  gta::EvidenceSources sources;
  sources.ak_cert_files = absl::GetFlag(FLAGS_gta_ak_certs);
  sources.ak_cert_type = absl::GetFlag(FLAGS_gta_ak_cert_type);
  if (sources.ak_cert_type != "aik" && sources.ak_cert_type != "iak" &&
      sources.ak_cert_type != "lak") {
    return absl::InvalidArgumentError("--gta_ak_cert_type: aik, iak or lak");
  }
  sources.boot_log_file = absl::GetFlag(FLAGS_boot_log);
  sources.ima_log_file = absl::GetFlag(FLAGS_ima_log);
  parts.collector =
      std::make_unique<gta::EvidenceCollector>(&agent, std::move(sources));
  if (const std::string url = absl::GetFlag(FLAGS_gta_service); !url.empty()) {
    trellis::gta::client::ServiceAccount account;
    account.user_id = absl::GetFlag(FLAGS_gta_user_id);
    if (account.user_id.empty()) {
      return absl::InvalidArgumentError("--gta_service needs --gta_user_id");
    }
    if (const std::string file = absl::GetFlag(FLAGS_gta_api_key_file);
        !file.empty()) {
      absl::StatusOr<std::string> key = trellis::ReadFile(file);
      if (!key.ok()) return key.status();
      account.api_key = std::string(absl::StripAsciiWhitespace(*key));
    }
    absl::StatusOr<std::unique_ptr<trellis::gta::client::ServiceClient>>
        service = trellis::gta::client::ServiceClient::Create(
            {url, absl::GetFlag(FLAGS_gta_service_ca)}, std::move(account));
    if (!service.ok()) return service.status();
    parts.service = std::move(*service);
  }
  std::string node_id = absl::GetFlag(FLAGS_node_id);
  if (node_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    node_id = host;
  }
  if (node_id.empty() || node_id.size() > 255) {
    return absl::InvalidArgumentError("--node_id: 1 to 255 characters");
  }
  parts.agent = std::make_unique<gta::GtaAgent>(
      parts.collector.get(), parts.service.get(), std::move(node_id));
  return parts;
}

// A log for the evidence: a path set on purpose (it must be readable);
// the default path only if this host has it readable; "" for none.
std::string EvidenceLog(const std::string& chosen,
                        const std::string& default_path) {
  if (chosen != default_path) return chosen;
  return access(default_path.c_str(), R_OK) == 0 ? default_path : "";
}

int Attest(HostAgent& agent) {
  namespace host = trellis::attest::host;
  host::HostAttestationOptions options;
  options.host_id = absl::GetFlag(FLAGS_host_id);
  if (options.host_id.empty()) {
    std::fprintf(stderr,
                 "trellis-tpm: attest needs --host_id (the name this host "
                 "registers under)\n");
    return 2;
  }
  options.pcrs = absl::GetFlag(FLAGS_pcrs);
  const std::string ima = absl::GetFlag(FLAGS_ima);
  options.ima_log =
      EvidenceLog(ima.empty() ? absl::GetFlag(FLAGS_ima_log) : ima,
                  trellis::gta::agent::kDefaultImaLog);
  options.boot_log = EvidenceLog(absl::GetFlag(FLAGS_boot_log),
                                 trellis::gta::agent::kDefaultBootLog);
  if (const std::string geo = absl::GetFlag(FLAGS_geolocation); !geo.empty()) {
    absl::StatusOr<host::Geolocation> parsed = host::ParseGeolocation(geo);
    if (!parsed.ok()) {
      std::fprintf(stderr, "trellis-tpm: %s\n",
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    options.geolocation = *parsed;
  }
  options.geolocation_pcr = absl::GetFlag(FLAGS_geolocation_pcr);
  absl::StatusOr<std::unique_ptr<trellis::attest::VerifierClient>> verifier =
      trellis::attest::VerifierClient::Create(
          {absl::GetFlag(FLAGS_verifier), absl::GetFlag(FLAGS_verifier_ca),
           absl::GetFlag(FLAGS_client_cert), absl::GetFlag(FLAGS_client_key)});
  if (!verifier.ok()) return Fail(verifier.status());
  absl::StatusOr<host::HostAttestation> attestation =
      host::AttestHost(agent, **verifier, options);
  if (!attestation.ok()) return Fail(attestation.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::cout
        << host::HostAttestationJson(*attestation, options.host_id).dump(2)
        << "\n";
  } else {
    std::cout << host::FormatHostAttestation(*attestation, options.host_id);
  }
  return attestation->verified ? 0 : 1;
}

int Serve(HostAgent& agent) {
  // SIGTERM / SIGINT stop the servers cleanly (blocked in every thread,
  // taken by this one).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  trellis::http::Router router;
  trellis::attest::host::AgentHttpOptions options;
  options.delegated_certification =
      absl::GetFlag(FLAGS_delegated_certification);
  options.default_pcrs = absl::GetFlag(FLAGS_pcrs);
  trellis::attest::host::RegisterAgentRoutes(router, agent, options);
  absl::StatusOr<GtaAgentParts> gta = MakeGtaAgent(agent);
  if (!gta.ok()) return Fail(gta.status());
  trellis::gta::agent::RegisterAgentRoutes(router, *gta->agent);
  // Requests by route and status (trellis_http_requests_total, listener
  // "agent"), served on a listener of their own.
  prometheus::Registry registry;
  trellis::metrics::HttpMetrics http_metrics(registry);
  std::unique_ptr<trellis::http::Server> metrics_server;
  const std::string metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  auto start = [&router, &metrics_addr,
                &http_metrics](const std::string& address)
      -> absl::StatusOr<std::unique_ptr<trellis::http::Server>> {
    trellis::http::ServerOptions server_options;
    server_options.address = address;
    server_options.worker_threads = 1;  // The TPM does one thing at a time.
    server_options.observer = trellis::logging::HttpRequestLog(
        "agent",
        metrics_addr.empty() ? nullptr : http_metrics.Observer("agent"));
    return trellis::http::Server::Start(server_options, router);
  };
  // The Unix socket first: once the port file exists, both answer.
  std::unique_ptr<trellis::http::Server> unix_server;
  if (const std::string path = absl::GetFlag(FLAGS_unix); !path.empty()) {
    absl::StatusOr<std::unique_ptr<trellis::http::Server>> s =
        start("unix:" + path);
    if (!s.ok()) return Fail(s.status());
    unix_server = std::move(*s);
    trellis::logging::Info("trellis-tpm", "serving", {{"unix", path}});
  }
  if (!metrics_addr.empty()) {
    trellis::http::Router metrics_router;
    trellis::metrics::AddMetricsRoute(
        metrics_router,
        {std::shared_ptr<prometheus::Collectable>(&registry, [](auto*) {})});
    trellis::http::ServerOptions metrics_options;
    metrics_options.address = metrics_addr;
    absl::StatusOr<std::unique_ptr<trellis::http::Server>> started =
        trellis::http::Server::Start(metrics_options,
                                     std::move(metrics_router));
    if (!started.ok()) return Fail(started.status());
    metrics_server = std::move(*started);
    if (const std::string file = absl::GetFlag(FLAGS_metrics_port_file);
        !file.empty()) {
      if (absl::Status s = trellis::ReplaceFile(
              file, absl::StrCat(metrics_server->port(), "\n"), 0644);
          !s.ok()) {
        return Fail(s);
      }
    }
    trellis::logging::Info("trellis-tpm", "serving metrics",
                           {{"address", metrics_addr},
                            {"port", absl::StrCat(metrics_server->port())}});
  }
  const std::string listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<std::unique_ptr<trellis::http::Server>> tcp_server =
      start(listen);
  if (!tcp_server.ok()) return Fail(tcp_server.status());
  const int port = (*tcp_server)->port();
  if (const std::string file = absl::GetFlag(FLAGS_port_file); !file.empty()) {
    if (absl::Status s =
            trellis::ReplaceFile(file, absl::StrCat(port, "\n"), 0644);
        !s.ok()) {
      return Fail(s);
    }
  }
  trellis::logging::Info("trellis-tpm", "serving",
                         {{"listen", listen}, {"port", absl::StrCat(port)}});
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    if (absl::Status s = trellis::logging::Reopen(); !s.ok()) {
      trellis::logging::Error("trellis-tpm", "cannot reopen the log file",
                              {{"error", s.ToString()}});
    }
  }
  trellis::logging::Info("trellis-tpm", "stopped",
                         {{"signal", absl::StrCat(signal)}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trellis-tpm create-ek-ak | generate-app-key | generate-quote | "
      "certify-app-key | activate-credential | register | attest | serve");
  std::vector<char*> args =
      trellis::config::ParseCommandLineWithConfig(argc, argv, "trellis-tpm");
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  const std::string command = args[1];
  static const char* const kCommands[] = {"create-ek-ak",
                                          "generate-app-key",
                                          "generate-quote",
                                          "certify-app-key",
                                          "activate-credential",
                                          "register",
                                          "attest",
                                          "serve"};
  if (std::find(std::begin(kCommands), std::end(kCommands), command) ==
      std::end(kCommands)) {
    std::fprintf(stderr, "trellis-tpm: unknown command \"%s\"; usage: %s\n",
                 command.c_str(), absl::ProgramUsageMessage().data());
    return 2;
  }
  // tpm2-tss logs its own errors to stderr; ours say the same, once.
  if (!absl::GetFlag(FLAGS_verbose)) setenv("TSS2_LOG", "all+NONE", 1);
  signal(SIGPIPE, SIG_IGN);  // A client gone mid-reply is not our death.
  absl::StatusOr<std::unique_ptr<trellis::attest::host::TpmDevice>> tpm =
      trellis::attest::host::TpmDevice::Open(absl::GetFlag(FLAGS_tcti));
  if (!tpm.ok()) return Fail(tpm.status());
  HostAgent agent(std::move(*tpm), absl::GetFlag(FLAGS_work_dir));

  if (command == "create-ek-ak") {
    auto out = agent.CreateEkAk(absl::GetFlag(FLAGS_algorithm),
                                absl::GetFlag(FLAGS_ek_algorithm));
    if (!out.ok()) return Fail(out.status());
    std::cout << out->dump(2) << "\n";
  } else if (command == "generate-app-key") {
    auto out = agent.GenerateAppKey();
    if (!out.ok()) return Fail(out.status());
    std::cout << out->dump(2) << "\n";
  } else if (command == "generate-quote") {
    auto quote = agent.GenerateQuote(absl::GetFlag(FLAGS_nonce),
                                     absl::GetFlag(FLAGS_pcrs));
    if (!quote.ok()) return Fail(quote.status());
    std::cout << *quote << "\n";
  } else if (command == "certify-app-key") {
    std::string context = absl::GetFlag(FLAGS_app_key_context);
    if (context.empty()) context = agent.work_dir() + "/app.ctx";
    auto cert = agent.CertifyAppKey(context, "", absl::GetFlag(FLAGS_nonce));
    if (!cert.ok()) return Fail(cert.status());
    std::cout << *cert << "\n";
  } else if (command == "activate-credential") {
    auto secret = agent.ActivateCredential(absl::GetFlag(FLAGS_credential),
                                           absl::GetFlag(FLAGS_secret));
    if (!secret.ok()) return Fail(secret.status());
    std::cout << absl::Base64Escape(*secret) << "\n";
  } else if (command == "register") {
    const absl::Status s = trellis::attest::host::RegisterWithVerifier(
        agent,
        {absl::GetFlag(FLAGS_verifier), absl::GetFlag(FLAGS_verifier_ca),
         absl::GetFlag(FLAGS_client_cert), absl::GetFlag(FLAGS_client_key)},
        absl::GetFlag(FLAGS_host_id));
    if (!s.ok()) return Fail(s);
    std::cout << "{\"status\": \"registered\", \"host_id\": \""
              << absl::GetFlag(FLAGS_host_id) << "\"}\n";
  } else if (command == "attest") {
    return Attest(agent);
  } else if (command == "serve") {
    if (absl::Status s = trellis::logging::ConfigureFromText(
            absl::GetFlag(FLAGS_log_level), absl::GetFlag(FLAGS_log_format),
            absl::GetFlag(FLAGS_log_file));
        !s.ok()) {
      std::fprintf(stderr, "trellis-tpm: %s\n",
                   std::string(s.message()).c_str());
      return 2;
    }
    return Serve(agent);
  }
  return 0;
}
