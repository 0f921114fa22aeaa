#pragma once
// The client settings of a `prometheus:` config section. `prescale serve`
// reads them from its file; the commands that fetch (forecast, backtest,
// simulate, fetch with --prometheus) read their flags into the same section
// first, so an option means the same in both and a new one is wired once.
#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"
#include "prescale/prometheus/client.hpp"

namespace prescale::prometheus {

/// url; timeout per attempt (a connection must be made within the smaller
/// of 5 s and the timeout); bearerTokenFile (re-read when it changes);
/// basicAuth (the password file read now, without its trailing line ends;
/// read only with a username); headers; caFile; insecureSkipVerify;
/// maxReplyBytes. Retries are left at ClientOptions' default: the caller
/// chooses them (the daemon ticks again next step, a command may wait).
/// The error ("cannot read <file>: <why>") is the password file's; the
/// caller prefixes the option that named it.
[[nodiscard]] Expected<ClientOptions> client_options(const config::PrometheusConfig& prometheus);

}  // namespace prescale::prometheus
