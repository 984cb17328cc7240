#pragma once
// TYPE A conversion (RFC 959 §3.1.1.1): the network form ends lines with CRLF, the files here with LF.
// Streaming: the state carries a CR seen at the end of the previous chunk.
#include <string>
#include <string_view>

namespace ftpsd::protocol {

// LF -> CRLF for a bare LF; an existing CRLF is kept as it is.
void to_network_ascii(std::string_view in, std::string& out, bool& last_was_cr);
// CRLF -> LF; a CR not followed by LF is kept. `pending_cr` holds a CR at a chunk end; flush with
// finish_from_network_ascii at the end of the stream.
void from_network_ascii(std::string_view in, std::string& out, bool& pending_cr);
void finish_from_network_ascii(std::string& out, bool& pending_cr);

}  // namespace ftpsd::protocol
