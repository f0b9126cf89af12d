#include "config/config.hpp"
#include "monitor/monitor.hpp"
#include "version.hpp"

namespace dbr::monitor {

MonitorOptions monitor_options(const config::Config& config) {
  MonitorOptions o;
  o.probe_url = config.probe_url.empty() ? "https://" + config.test_domain + "/" : config.probe_url;
  o.dns_servers = config.dns_servers;
  o.timeout = config.connection_timeout;
  o.interval = config.connection_interval;
  o.ca_file = config.ca_file;
  o.user_agent = std::string("dunebugger-remote/") + kVersion;
  return o;
}

}  // namespace dbr::monitor
