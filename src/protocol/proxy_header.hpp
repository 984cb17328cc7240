#pragma once
// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load balancer
// sends before the client's first byte. Pure: no I/O. The reader must never consume a byte past the
// header (on a data connection the client's upload follows at once), so the parser says how many
// bytes it may be given next; feed exactly that many.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ftpsd::protocol {

struct ProxyEndpoint {
  std::string address;  // canonical text (IPv4 dotted, IPv6 inet_ntop form)
  std::uint16_t port = 0;
};

struct ProxyHeader {
  int version = 0;  // 1 or 2
  // nullopt: the proxy sent no client address (v1 UNKNOWN, v2 LOCAL or an unsupported family): use
  // the connection's own endpoints, as the specification says.
  std::optional<ProxyEndpoint> source;
  std::optional<ProxyEndpoint> destination;
};

enum class ProxyHeaderError : std::uint8_t {
  kNotProxy,   // the bytes start with neither signature
  kMalformed,  // a signature, then something the specification does not allow
  kTooLong,    // v1 line over 107 bytes
};

// Longest header accepted: v1 is at most 107 bytes; v2 carries TLVs after the addresses, bounded
// here to keep a hostile peer from making us buffer much.
inline constexpr std::size_t kMaxProxyHeader = 16 + 1024;

class ProxyHeaderParser {
 public:
  enum class State : std::uint8_t { kNeedMore, kDone, kError };

  // How many more bytes may be read without passing the end of the header (>= 1 while kNeedMore).
  [[nodiscard]] std::size_t wanted() const noexcept;
  // Appends bytes (at most wanted() of them) and advances.
  State feed(std::string_view bytes);

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] const ProxyHeader& header() const noexcept { return header_; }
  [[nodiscard]] ProxyHeaderError error() const noexcept { return error_; }
  [[nodiscard]] std::size_t consumed() const noexcept { return buffer_.size(); }

 private:
  State fail(ProxyHeaderError e);
  State parse_v1();
  State parse_v2();

  std::string buffer_;
  State state_ = State::kNeedMore;
  ProxyHeader header_;
  ProxyHeaderError error_ = ProxyHeaderError::kMalformed;
};

// Convenience for whole buffers (tests, fuzzing): parses a complete header at the start of `bytes`.
struct ParsedProxyHeader {
  ProxyHeader header;
  std::size_t length = 0;
};
[[nodiscard]] std::optional<ParsedProxyHeader> parse_proxy_header(std::string_view bytes,
                                                                  ProxyHeaderError* error = nullptr);

// Builders, for tests and for the `doctor` tool.
[[nodiscard]] std::string format_proxy_v1(const ProxyEndpoint& source, const ProxyEndpoint& destination);
[[nodiscard]] std::string format_proxy_v2(const ProxyEndpoint& source, const ProxyEndpoint& destination);

[[nodiscard]] std::string_view describe(ProxyHeaderError e);

}  // namespace ftpsd::protocol
