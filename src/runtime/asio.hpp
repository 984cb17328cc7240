#pragma once
// The Asio pieces the server uses, and the completion tokens it prefers.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace ftpsd {

template <class T>
using Task = asio::awaitable<T>;

// Completion as a tuple (error_code first): expected failures are values, not exceptions.
inline constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace ftpsd
