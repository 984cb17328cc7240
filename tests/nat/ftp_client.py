"""An FTP(S) client run inside the client namespace by the NAT tests (ip netns exec ... python3 this).

Reads one JSON job from argv[1], prints one JSON result line. Uses ftplib; passive mode trusts the
address of the 227 reply when asked (ftplib ignores it by default, which would hide NAT mistakes).
"""
import ftplib
import io
import json
import os
import socket
import ssl
import sys

# Every TLS context behaves like stock CPython's (tests/integration/stock_ssl.py): a TLS stream that ends
# without close_notify is an error here too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import stock_ssl  # noqa: E402,F401


class Client(ftplib.FTP_TLS):
    """FTP or FTPS (explicit/implicit); PASV, EPSV or active; resumes the TLS session on data connections."""

    def __init__(self, job):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        super().__init__(context=ctx, timeout=job.get("timeout", 20))
        self.job = job
        self.replies = []
        self.trust_server_pasv_ipv4_address = job.get("trust_pasv", True)

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        reply = super().connect(host, port)
        if self.job.get("tls") == "implicit":
            self.sock = self.context.wrap_socket(self.sock, server_hostname=host)
            self.file = self.sock.makefile("r", encoding=self.encoding)
            reply = self.getresp()
        return reply

    def sendcmd(self, cmd):
        resp = super().sendcmd(cmd)
        if resp[:3] in ("227", "229", "200"):
            self.replies.append(resp)
        return resp

    def makepasv(self):
        if self.job.get("mode") == "epsv":
            return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return super().makepasv()

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def main():
    job = json.loads(sys.argv[1])
    c = Client(job)
    out = {"ok": False, "results": [], "replies": c.replies}
    try:
        c.connect(job["host"], job["port"])
        if job.get("tls") == "explicit":
            c.auth()
        if job.get("host_name"):  # HOST (RFC 7151) chooses the site; before USER, inside TLS when there is TLS
            out["host_reply"] = c.sendcmd(f"HOST {job['host_name']}")
        if job.get("tls") in ("explicit", "implicit"):
            ftplib.FTP.login(c, job["user"], job["password"])
            c.prot_p()
        else:
            ftplib.FTP.login(c, job["user"], job["password"])
        c.set_pasv(job.get("mode", "pasv") != "active")
        for op in job["ops"]:
            if op[0] == "list":
                lines = []
                c.retrlines("LIST", lines.append)
                out["results"].append(lines)
            elif op[0] == "stor":
                data = op[2] * 1024 * b"x"  # op[2] KiB
                c.storbinary(f"STOR {op[1]}", io.BytesIO(data))
                out["results"].append(len(data))
            elif op[0] == "retr":
                buf = io.BytesIO()
                c.retrbinary(f"RETR {op[1]}", buf.write)
                out["results"].append(len(buf.getvalue()))
            elif op[0] == "probe":
                # PASV, then a bare TCP connect to that port on each address of op[1] in turn (not only the
                # one PASV gave), each within op[2] seconds: "connected", "timeout" (dropped) or "refused".
                port = ftplib.parse227(c.sendcmd("PASV"))[1]
                outcomes = []
                for address in op[1]:
                    try:
                        with socket.create_connection((address, port), timeout=op[2]):
                            outcomes.append("connected")
                    except TimeoutError:
                        outcomes.append("timeout")
                    except ConnectionRefusedError:
                        outcomes.append("refused")
                out["results"].append(outcomes)
            elif op[0] == "raw":
                try:
                    out["results"].append(c.sendcmd(op[1]))
                except ftplib.Error as e:
                    out["results"].append(str(e))
        c.quit()
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - the test reads the error
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
