#include "engine/store/schema.h"

#include <array>

#include "base/file_util.h"

namespace md::store {

namespace {

// Version 1: containers, images and their tags and layers. STRICT tables make SQLite
// refuse a value of the wrong type; CHECKs keep a bad state or id out even if a bug
// tries to write one. Times are Unix nanoseconds (0 = never); JSON columns are text.
constexpr const char kSchemaV1[] = R"sql(
CREATE TABLE containers (
  id                 TEXT PRIMARY KEY CHECK (length(id) = 64),
  name               TEXT NOT NULL UNIQUE,
  image              TEXT NOT NULL DEFAULT '',
  created            INTEGER NOT NULL,
  state              TEXT NOT NULL CHECK (state IN
                       ('created', 'restarting', 'running', 'paused', 'exited', 'dead', 'removing')),
  pid                INTEGER NOT NULL DEFAULT 0,
  pid_start_time     INTEGER NOT NULL DEFAULT 0,
  monitor_pid        INTEGER NOT NULL DEFAULT 0,
  monitor_start_time INTEGER NOT NULL DEFAULT 0,
  exit_code          INTEGER NOT NULL DEFAULT 0,
  started_at         INTEGER NOT NULL DEFAULT 0,
  finished_at        INTEGER NOT NULL DEFAULT 0,
  reason             TEXT NOT NULL DEFAULT '',
  config             TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
  host_config        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(host_config)),
  labels             TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  restart_count      INTEGER NOT NULL DEFAULT 0,
  health             TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(health)),
  version            INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX containers_image ON containers(image);

CREATE TABLE images (
  id      TEXT PRIMARY KEY CHECK (length(id) = 71 AND substr(id, 1, 7) = 'sha256:'),
  created INTEGER NOT NULL DEFAULT 0,
  added   INTEGER NOT NULL DEFAULT 0,
  size    INTEGER NOT NULL DEFAULT 0,
  config  TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE TABLE image_tags (
  tag      TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
) STRICT;
CREATE INDEX image_tags_image ON image_tags(image_id);

CREATE TABLE layers (
  digest   TEXT PRIMARY KEY,
  refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0)
) STRICT;

CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  digest   TEXT NOT NULL REFERENCES layers(digest),
  PRIMARY KEY (image_id, position)
) STRICT;
CREATE INDEX image_layers_digest ON image_layers(digest);
)sql";

// Version 2 (networking): networks, the endpoints that attach containers to them (with
// the IP address allocated to each, kept from create to removal), and the host ports a
// running container has published. An endpoint or port goes with its container
// (ON DELETE CASCADE); a network with endpoints cannot be deleted (no cascade).
constexpr const char kSchemaV2[] = R"sql(
CREATE TABLE networks (
  id       TEXT PRIMARY KEY CHECK (length(id) = 64),
  name     TEXT NOT NULL UNIQUE,
  driver   TEXT NOT NULL CHECK (driver IN ('bridge', 'host', 'null')),
  bridge   TEXT NOT NULL DEFAULT '',
  subnet   TEXT NOT NULL DEFAULT '',
  gateway  TEXT NOT NULL DEFAULT '',
  internal INTEGER NOT NULL DEFAULT 0,
  dns      INTEGER NOT NULL DEFAULT 0,
  labels   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  options  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
  created  INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  network_id   TEXT NOT NULL REFERENCES networks(id),
  endpoint_id  TEXT NOT NULL UNIQUE,
  ifname       TEXT NOT NULL,
  ip           TEXT NOT NULL,
  mac          TEXT NOT NULL DEFAULT '',
  aliases      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases)),
  static_ip    INTEGER NOT NULL DEFAULT 0,
  created      INTEGER NOT NULL,
  PRIMARY KEY (container_id, network_id),
  UNIQUE (network_id, ip)
) STRICT;
CREATE INDEX endpoints_network ON endpoints(network_id);

CREATE TABLE published_ports (
  container_id   TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  proto          TEXT NOT NULL CHECK (proto IN ('tcp', 'udp')),
  host_ip        TEXT NOT NULL,
  host_port      INTEGER NOT NULL CHECK (host_port BETWEEN 1 AND 65535),
  container_ip   TEXT NOT NULL,
  container_port INTEGER NOT NULL CHECK (container_port BETWEEN 1 AND 65535),
  PRIMARY KEY (proto, host_ip, host_port)
) STRICT;
CREATE INDEX published_ports_container ON published_ports(container_id);
)sql";

// Version 3 (pods, docs/pods.md): a pod is a name, labels, and the infra container that
// holds the namespaces its members share. infra_id is a container id ('' between the row's
// insert and the infra's creation); it is not a foreign key, so a missing infra (a crash
// half-way through create or rm) never blocks removing the pod. config: what the pod was
// created with (ports, network, hostname), as JSON.
constexpr const char kSchemaV3[] = R"sql(
CREATE TABLE pods (
  id       TEXT PRIMARY KEY CHECK (length(id) = 64),
  name     TEXT NOT NULL UNIQUE,
  infra_id TEXT NOT NULL DEFAULT '',
  labels   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  created  INTEGER NOT NULL,
  config   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config))
) STRICT;
CREATE INDEX pods_infra ON pods(infra_id);
)sql";

constexpr std::array<Migration, 3> kMigrations = {{
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
}};

}  // namespace

std::string state_db_path(const std::string& root) { return join_path(root, "minidocker.db"); }

std::span<const Migration> schema_migrations() { return kMigrations; }

Result<Database> open_state_db(const std::string& root, Database::Options options) {
  TRY_CTX(make_directories(root, 0700), "create state directory");
  Database db = TRY(Database::open(state_db_path(root), options));
  TRY(db.migrate(schema_migrations()));
  return db;
}

}  // namespace md::store
