// The OpenAPI document compiled into the binary (docs/openapi.json) against the routes the Manager
// serves: every route served is listed, every route listed is served, and the document holds together.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "admin/api.hpp"
#include "util/embedded.hpp"

namespace ftpsd::admin {
namespace {

json document() {
  const auto files = embedded::api_documents();
  EXPECT_EQ(files.size(), 1U);
  EXPECT_EQ(files.front().name, "openapi.json");
  return json::parse(files.front().data);
}

std::set<std::string> served() {
  httplib::Server server;
  Api api;
  Router router(server);
  add_routes(api, router);
  std::set<std::string> routes;
  for (const auto& r : router.routes()) {
    EXPECT_TRUE(routes.insert(r.method + " " + r.path).second)
        << "served twice: " << r.method << " " << r.path;
  }
  return routes;
}

TEST(OpenApi, ListsExactlyTheRoutesServed) {
  const auto doc = document();
  std::set<std::string> listed;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) listed.insert(method + " " + path);
  }
  const auto routes = served();
  for (const auto& r : routes)
    EXPECT_TRUE(listed.contains(r)) << "served but not in docs/openapi.json: " << r;
  for (const auto& l : listed)
    EXPECT_TRUE(routes.contains(l)) << "in docs/openapi.json but not served: " << l;
  EXPECT_GE(routes.size(), 5U);
}

// Follows "#/components/..." to its target; false when it leads nowhere.
bool resolves(const json& doc, const std::string& ref) {
  if (!ref.starts_with("#/")) return false;
  const json::json_pointer pointer(ref.substr(1));
  return doc.contains(pointer);
}

void check_refs(const json& doc, const json& node, const std::string& where) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref") {
        EXPECT_TRUE(value.is_string() && resolves(doc, value.get<std::string>()))
            << where << ": $ref " << value.dump() << " leads nowhere";
      } else {
        check_refs(doc, value, where + "/" + key);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) check_refs(doc, node[i], where + "/" + std::to_string(i));
  }
}

TEST(OpenApi, IsAWellFormedOpenApi3Document) {
  const auto doc = document();
  ASSERT_TRUE(doc.at("openapi").get<std::string>().starts_with("3."));
  EXPECT_TRUE(doc.at("info").contains("title"));
  EXPECT_TRUE(doc.at("info").contains("version"));
  const std::set<std::string> methods{"get", "put", "post", "delete", "patch"};
  for (const auto& [path, item] : doc.at("paths").items()) {
    EXPECT_TRUE(path.starts_with("/api/v1/")) << path;
    for (const auto& [method, operation] : item.items()) {
      EXPECT_TRUE(methods.contains(method)) << path << ": " << method;
      ASSERT_TRUE(operation.contains("responses")) << method << " " << path;
      EXPECT_FALSE(operation.at("responses").empty()) << method << " " << path;
      // Each {parameter} of the path is described as a path parameter.
      for (std::size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
        const auto name = path.substr(open + 1, path.find('}', open) - open - 1);
        bool described = false;
        for (const auto& p : operation.value("parameters", json::array()))
          described =
              described || (p.at("name") == name && p.at("in") == "path" && p.value("required", false));
        EXPECT_TRUE(described) << method << " " << path << ": path parameter " << name << " not described";
      }
    }
  }
  check_refs(doc, doc, "#");
}

}  // namespace
}  // namespace ftpsd::admin
