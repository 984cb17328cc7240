// A small FTPS client on Apache Commons Net (Debian's libcommons-net-java) and the JDK's TLS (JSSE),
// driven by tests/interop/test_java.py, which compiles it at test time.
//
// java -cp DIR:/usr/share/java/commons-net.jar FtpsInterop explicit|implicit PORT USER PASSWORD LOCAL REMOTE BACK
//
// Logs in over TLS, PBSZ 0, PROT P, passive, binary; stores LOCAL as REMOTE, lists the names of the
// current folder, retrieves REMOTE into BACK. Prints "names: a,b,..." and "ok". On a refused command
// prints "failed STEP: REPLY" (the server's reply) and exits with 2.
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPReply;
import org.apache.commons.net.ftp.FTPSClient;
import org.apache.commons.net.util.TrustManagerUtils;

public final class FtpsInterop {
  private interface Step {
    boolean run() throws IOException;
  }

  private static void check(FTPSClient ftp, boolean ok, String step) {
    if (ok) return;
    System.out.println("failed " + step + ": " + ftp.getReplyString().trim());
    System.exit(2);
  }

  // A data connection the server closes (a refusal after the TLS handshake) surfaces as an
  // IOException in the middle of the transfer; the server's reply then waits on the control connection.
  private static void step(FTPSClient ftp, String name, Step s) throws IOException {
    boolean ok;
    try {
      ok = s.run();
    } catch (IOException e) {
      System.out.println("data connection error in " + name + ": " + e);
      ftp.getReply();
      ok = false;
    }
    check(ftp, ok, name);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 7) {
      System.err.println("usage: FtpsInterop explicit|implicit PORT USER PASSWORD LOCAL REMOTE BACK");
      System.exit(64);
    }
    final boolean implicit = args[0].equals("implicit");
    final FTPSClient ftp = new FTPSClient("TLS", implicit);
    ftp.setTrustManager(TrustManagerUtils.getAcceptAllTrustManager()); // self-signed test certificate
    ftp.setConnectTimeout(30000);
    ftp.setDefaultTimeout(30000);
    ftp.connect("127.0.0.1", Integer.parseInt(args[1])); // explicit: sends AUTH TLS after the greeting
    check(ftp, FTPReply.isPositiveCompletion(ftp.getReplyCode()), "connect");
    check(ftp, ftp.login(args[2], args[3]), "login");
    ftp.execPBSZ(0);
    ftp.execPROT("P");
    ftp.enterLocalPassiveMode();
    check(ftp, ftp.setFileType(FTP.BINARY_FILE_TYPE), "TYPE I");
    step(ftp, "STOR", () -> {
      try (InputStream in = new FileInputStream(args[4])) {
        return ftp.storeFile(args[5], in);
      }
    });
    final String[][] names = new String[1][];
    step(ftp, "NLST", () -> (names[0] = ftp.listNames()) != null);
    Arrays.sort(names[0]);
    System.out.println("names: " + String.join(",", names[0]));
    step(ftp, "RETR", () -> {
      try (OutputStream out = new FileOutputStream(args[6])) {
        return ftp.retrieveFile(args[5], out);
      }
    });
    ftp.logout();
    ftp.disconnect();
    System.out.println("ok");
  }
}
