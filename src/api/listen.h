// The server's listeners (docs/api-server.md): unix sockets and TCP, as Asio generic
// stream acceptors so one Session type serves both; and the token check of TCP listeners.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio.hpp>

#include "base/result.h"

namespace md::api {

using GenericAcceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
using GenericSocket = boost::asio::generic::stream_protocol::socket;

// Binds `path` 0660 root:root, replacing a stale socket (one nobody answers on); refuses
// one a live server is listening on (EADDRINUSE) and a path that is not a socket (EEXIST).
Result<std::unique_ptr<GenericAcceptor>> listen_unix(boost::asio::io_context& io, const std::string& path);

// Binds host:port (numeric address or "localhost"; port 0 = any free one). `bound` gets
// the address actually bound ("127.0.0.1:43123", "[::1]:2375"). Close-on-exec.
Result<std::unique_ptr<GenericAcceptor>> listen_tcp(boost::asio::io_context& io, const std::string& host, int port,
                                                    std::string* bound);

// Whether a request carries `token`: "Authorization: Bearer <token>", a cookie
// "md_token=<token>" or a query parameter "token=<token>" (URL-decoded). Constant-time
// comparison (CRYPTO_memcmp), so the time taken does not say how much of a guess matched.
bool request_has_token(const std::string& token, std::string_view authorization, std::string_view cookie,
                       std::string_view query_string);

}  // namespace md::api
