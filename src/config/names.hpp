#pragma once
// The configuration's enumerations as the text the files use: one table per enum, read by the
// loaders (config, users file) and written back in logs and replies.
#include <optional>
#include <string_view>

#include "config/config.hpp"

namespace ftpsd::config {

constexpr std::pair<std::string_view, TlsMode> kTlsModes[] = {
    {"none", TlsMode::kNone}, {"explicit", TlsMode::kExplicit}, {"implicit", TlsMode::kImplicit}};
constexpr std::pair<std::string_view, TlsRequired> kTlsRequired[] = {
    {"none", TlsRequired::kNone}, {"login", TlsRequired::kLogin}, {"all", TlsRequired::kAll}};
constexpr std::pair<std::string_view, SessionReuse> kSessionReuse[] = {
    {"off", SessionReuse::kOff}, {"report", SessionReuse::kReport}, {"require", SessionReuse::kRequire}};
constexpr std::pair<std::string_view, LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                                                  {"json", LogFormat::kJson}};

template <class E, std::size_t N>
[[nodiscard]] constexpr std::optional<E> from_name(const std::pair<std::string_view, E> (&table)[N],
                                                   std::string_view text) noexcept {
  for (const auto& [name, value] : table)
    if (name == text) return value;
  return std::nullopt;
}

template <class E, std::size_t N>
[[nodiscard]] constexpr std::string_view to_name(const std::pair<std::string_view, E> (&table)[N],
                                                 E value) noexcept {
  for (const auto& [name, v] : table)
    if (v == value) return name;
  return "?";
}

[[nodiscard]] constexpr std::string_view name(TlsMode v) noexcept {
  return to_name(kTlsModes, v);
}
[[nodiscard]] constexpr std::string_view name(TlsRequired v) noexcept {
  return to_name(kTlsRequired, v);
}
[[nodiscard]] constexpr std::string_view name(SessionReuse v) noexcept {
  return to_name(kSessionReuse, v);
}

}  // namespace ftpsd::config
