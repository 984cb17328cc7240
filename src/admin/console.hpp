#pragma once
// The web console: the static files of web/ (and the Debian packages' Bootstrap and Chart.js) compiled
// into the binary (embedded::console_files()), served at / and at their own paths. They are the same
// for everyone and need no sign-in; every answer they show comes from the API.
#include <httplib.h>

namespace ftpsd::admin {

void add_console_files(httplib::Server& server);

}  // namespace ftpsd::admin
