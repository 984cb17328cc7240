#pragma once
// Every command handler. Grouped by file: auth_, info_, dir_, file_, transfer_, data_handlers.cpp.
#include "session/context.hpp"
#include "session/listing.hpp"

namespace ftpsd::session::handlers {

using protocol::Command;

#define FTPSD_HANDLER(name) Task<Reply> name(SessionContext& ctx, const Command& cmd)
// auth_handlers.cpp
FTPSD_HANDLER(user);
FTPSD_HANDLER(pass);
FTPSD_HANDLER(acct);
FTPSD_HANDLER(rein);
FTPSD_HANDLER(quit);
FTPSD_HANDLER(host);
// info_handlers.cpp
FTPSD_HANDLER(noop);
FTPSD_HANDLER(syst);
FTPSD_HANDLER(feat);
FTPSD_HANDLER(opts);
FTPSD_HANDLER(help);
FTPSD_HANDLER(stat);
FTPSD_HANDLER(site);
FTPSD_HANDLER(type);
FTPSD_HANDLER(mode);
FTPSD_HANDLER(stru);
FTPSD_HANDLER(allo);
FTPSD_HANDLER(rest);
// dir_handlers.cpp
FTPSD_HANDLER(pwd);
FTPSD_HANDLER(cwd);
FTPSD_HANDLER(cdup);
FTPSD_HANDLER(mkd);
FTPSD_HANDLER(rmd);
FTPSD_HANDLER(dele);
FTPSD_HANDLER(rnfr);
FTPSD_HANDLER(rnto);
FTPSD_HANDLER(size);
FTPSD_HANDLER(mdtm);
FTPSD_HANDLER(mfmt);
FTPSD_HANDLER(mlst);
// transfer_handlers.cpp
FTPSD_HANDLER(retr);
FTPSD_HANDLER(stor);
FTPSD_HANDLER(stou);
FTPSD_HANDLER(appe);
FTPSD_HANDLER(list);
FTPSD_HANDLER(nlst);
FTPSD_HANDLER(mlsd);
FTPSD_HANDLER(abor);
// tls_handlers.cpp
FTPSD_HANDLER(auth);
FTPSD_HANDLER(pbsz);
FTPSD_HANDLER(prot);
FTPSD_HANDLER(ccc);
// data_handlers.cpp
FTPSD_HANDLER(pasv);
FTPSD_HANDLER(epsv);
FTPSD_HANDLER(port);
FTPSD_HANDLER(eprt);
#undef FTPSD_HANDLER

// Shared by LIST/NLST/MLSD and STAT <path>: the listing lines of a path (a directory's entries, or the
// file itself), with glob matching on the last segment. Runs on the blocking pool.
Task<Result<std::vector<std::string>, Reply>> listing_lines(SessionContext& ctx, std::string_view argument,
                                                            ListFormat format);

}  // namespace ftpsd::session::handlers
