#pragma once
// Keeps the host name of passive.address resolved: a lookup at start, then one every
// passive.resolve_every, each on the worker pool (a DNS lookup can take seconds; the event loop must
// never wait for it). A failed lookup keeps the last good address and is logged.
#include <memory>
#include <string>

#include "net/passive_address_policy.hpp"
#include "runtime/blocking_pool.hpp"
#include "util/duration.hpp"
#include "util/result.hpp"

namespace ftpsd::net {

// Blocking: getaddrinfo for IPv4 addresses (a 227 reply can only carry IPv4). The first address.
// Names under .invalid fail at once, without a query (RFC 6761).
[[nodiscard]] Result<asio::ip::address_v4, std::string> resolve_ipv4(const std::string& host);

// One lookup, logged; updates `policy` on success. Blocking: for start-up and tools.
void resolve_now(PassiveAddressPolicy& policy);

// Runs until its event loop stops or nothing uses the policy `weak` points to any more (a reload
// replaced it and the last session that had it ended): every `every`, a lookup on `pool`, then the
// policy updated.
Task<void> keep_resolved(std::weak_ptr<PassiveAddressPolicy> weak, runtime::BlockingPool& pool,
                         Duration every);

}  // namespace ftpsd::net
