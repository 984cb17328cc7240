#include "app/connect_help.hpp"

#include <fmt/format.h>

namespace ftpsd::app {

void print_connect_help(const std::vector<config::ListenerConfig>& listeners, const std::string& manager_url,
                        const std::filesystem::path& source) {
  const auto& l = listeners.front();
  const auto* implicit = listeners.size() > 1 ? &listeners[1] : nullptr;
  fmt::print(
      stderr,
      "\nftpsd is running with {4}.\n"
      "  data folder: run/data    user: demo    password: demo    certificate: run/cert.pem (self-signed)\n"
      "  explicit FTPS on {0}:{1}, implicit FTPS on {0}:{2}\n"
      "  curl:      curl --ssl-reqd -k -u demo:demo ftp://{0}:{1}/\n"
      "             curl -k -u demo:demo ftps://{0}:{2}/\n"
      "  lftp:      lftp -e 'set ssl:verify-certificate no' -u demo,demo -p {1} {0}\n"
      "  FileZilla: host {0}, port {1}, \"Require explicit FTP over TLS\", user demo, password demo\n"
      "  Python:    ftplib.FTP_TLS does not resume the TLS session on data connections, which ftpsd\n"
      "             requires (tls.session_reuse = \"require\"; without it: 522); this subclass does:\n"
      "\n"
      "import ftplib, ssl\n"
      "\n"
      "class FTP_TLS(ftplib.FTP_TLS):\n"
      "    # Data connections resume the control connection's TLS session.\n"
      "    def ntransfercmd(self, cmd, rest=None):\n"
      "        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)\n"
      "        if self._prot_p:\n"
      "            conn = self.context.wrap_socket(conn, server_hostname=self.host,\n"
      "                                            session=self.sock.session)\n"
      "        return conn, size\n"
      "\n"
      "ctx = ssl.create_default_context()\n"
      "ctx.check_hostname = False\n"
      "ctx.verify_mode = ssl.CERT_NONE  # the self-signed certificate of make run\n"
      "ftp = FTP_TLS(context=ctx)\n"
      "ftp.connect(\"{0}\", {1})\n"
      "ftp.login(\"demo\", \"demo\")  # AUTH TLS first, then USER and PASS\n"
      "ftp.prot_p()               # encrypted data connections too\n"
      "print(ftp.nlst())\n"
      "ftp.retrlines(\"RETR README.txt\", print)\n"
      "ftp.quit()\n"
      "\n"
      "{3}"
      "Stop with Ctrl-C.\n\n",
      l.host, l.port, implicit ? implicit->port : 0,
      manager_url.empty() ? std::string()
                          : fmt::format("The Manager (web console and REST API): {}/\n"
                                        "  user: admin    password: admin    (the self-signed certificate: "
                                        "the browser warns once)\n\n",
                                        manager_url),
      source == config::kEmbeddedDefaultName ? std::string("its embedded default configuration")
                                             : source.string());
}

}  // namespace ftpsd::app
