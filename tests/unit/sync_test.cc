// The connector framework: batches and checkpoints commit together, a run
// that dies resumes without loss or duplicates, unchanged documents are not
// rewritten, access changes reach stored documents, status is recorded.
#include "connectors/sync.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/secret.h"
#include "connectors/sources.h"
#include "test_util.h"

namespace savoir {
namespace {

ConnectorDocument Doc(const std::string& id, const std::string& text, AccessList acl = {"group:g"}) {
  ConnectorDocument d;
  d.external_id = id;
  d.title = "T " + id;
  d.text = text;
  d.acl = std::move(acl);
  return d;
}

// Emits one document per batch with checkpoint = its index; fails after
// `fail_after` batches (a kill or a dropped connection mid-run).
class CountingConnector : public Connector {
 public:
  int total = 5;
  int fail_after = -1;
  std::string started_from;
  Status Run(const std::string& checkpoint, SyncContext& ctx) override {
    started_from = checkpoint;
    int start = checkpoint.empty() ? 0 : std::stoi(checkpoint) + 1;
    for (int i = start; i < total; ++i) {
      if (i == fail_after) return Status(ErrorKind::kUnavailable, "connection lost");
      ConnectorBatch b;
      b.upserts.push_back(Doc("doc" + std::to_string(i), "text number " + std::to_string(i)));
      b.checkpoint = std::to_string(i);
      SAVOIR_RETURN_IF_ERROR(ctx.emit(b));
    }
    return Status::Ok();
  }
};

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(OpenSqliteStore(dir_ / "savoir.db")).value();
    source_ = *store_->EnsureSource("test", "t");
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
};

TEST_F(SyncTest, AFailedRunResumesFromTheLastCommittedBatch) {
  CountingConnector c;
  c.fail_after = 3;
  ConnectorSyncSummary s1;
  Status st = SyncConnector(*store_, source_, c, {}, &s1);
  EXPECT_EQ(st.kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 3u);
  EXPECT_EQ(*store_->GetCheckpoint(source_), "2");
  auto status = *store_->GetSyncStatus(source_);
  EXPECT_EQ(status.last_success, 0);
  ASSERT_EQ(status.errors.size(), 1u);
  EXPECT_EQ(status.errors[0], "connection lost");

  c.fail_after = -1;
  ConnectorSyncSummary s2;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s2).ok());
  EXPECT_EQ(c.started_from, "2");
  EXPECT_EQ(s2.added, 2u);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 5u);
  status = *store_->GetSyncStatus(source_);
  EXPECT_GT(status.last_success, 0);
  EXPECT_TRUE(status.errors.empty());
  EXPECT_EQ(status.documents_seen, 2);
  EXPECT_GT(status.next_run, status.last_success);
  EXPECT_TRUE(store_->Verify().ok());
}

// A connector with a reading bug: after one committed batch, a payload of an
// unexpected shape makes it throw (nlohmann's type_error, as `j.value(...)`
// does on a wrong type). The run fails with the message; the process and
// the committed batch survive.
class ThrowingConnector : public Connector {
 public:
  Status Run(const std::string&, SyncContext& ctx) override {
    ConnectorBatch b;
    b.upserts.push_back(Doc("kept", "committed before the bad payload"));
    b.checkpoint = "1";
    SAVOIR_RETURN_IF_ERROR(ctx.emit(b));
    nlohmann::json payload = nlohmann::json::parse(R"({"ok": "true"})");
    (void)payload.value("ok", false);  // throws: "ok" is a string
    return Status::Ok();
  }
};

TEST_F(SyncTest, AConnectorThatThrowsFailsItsRunNotTheProcess) {
  ThrowingConnector c;
  ConnectorSyncSummary s;
  Status st = SyncConnector(*store_, source_, c, {}, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("the connector stopped on unexpected data"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("type_error"), std::string::npos) << st.ToString();
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 1u);
  EXPECT_EQ(*store_->GetCheckpoint(source_), "1");
  auto status = *store_->GetSyncStatus(source_);
  ASSERT_EQ(status.errors.size(), 1u);
  EXPECT_TRUE(store_->Verify().ok());
}

class ScriptedConnector : public Connector {
 public:
  ConnectorBatch batch;
  Status Run(const std::string&, SyncContext& ctx) override {
    ConnectorBatch b = batch;
    return ctx.emit(b);
  }
};

TEST_F(SyncTest, UnchangedDocumentsAreSkippedDeletionsAndAccessChangesApplied) {
  ScriptedConnector c;
  c.batch.upserts = {Doc("C1/a", "alpha"), Doc("C1/b", "beta"), Doc("C2/c", "gamma")};
  ConnectorSyncSummary s1;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s1).ok());
  EXPECT_EQ(s1.added, 3u);
  int64_t seq = *store_->LastChangeSeq();

  ConnectorSyncSummary s2;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s2).ok());
  EXPECT_EQ(s2.unchanged, 3u);
  EXPECT_EQ(*store_->LastChangeSeq(), seq);

  c.batch.upserts = {Doc("C1/a", "alpha edited")};
  c.batch.deletions = {"C2/c", "never-stored"};
  c.batch.access_changes = {{"C1/", {"user:slack:U1", "user:slack:U2"}}};
  ConnectorSyncSummary s3;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s3).ok());
  EXPECT_EQ(s3.removed, 1u);
  auto b = store_->FindDocument(source_, "C1/b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->acl, (AccessList{"user:slack:U1", "user:slack:U2"}));
  EXPECT_FALSE(store_->FindDocument(source_, "C2/c")->has_value());
  auto a = *store_->FindDocument(source_, "C1/a");
  EXPECT_EQ(store_->GetDocument(a->id)->content, "alpha edited");
}

TEST_F(SyncTest, BadDocumentsAreReportedWithoutStoppingTheBatch) {
  ScriptedConnector c;
  ConnectorDocument no_acl = Doc("x", "text", {});
  ConnectorDocument bad_pdf = Doc("y", "");
  bad_pdf.bytes = "not a pdf";
  bad_pdf.file_name = "y.pdf";
  c.batch.upserts = {no_acl, bad_pdf, Doc("z", "fine")};
  ConnectorSyncSummary s;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s).ok());
  EXPECT_EQ(s.errors.size(), 2u);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 1u);
}

TEST_F(SyncTest, NextRunFollowsTheIntervalAndZeroMeansManual) {
  CountingConnector c;
  ConnectorSyncSummary s1;
  ConnectorSyncOptions every_minute;
  every_minute.interval_seconds = 60;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, every_minute, &s1).ok());
  auto st = *store_->GetSyncStatus(source_);
  EXPECT_GT(st.last_success, 0);
  EXPECT_EQ(st.next_run, st.last_success + 60);
  EXPECT_EQ(st.documents_seen, 5);
  ConnectorSyncSummary s2;
  ConnectorSyncOptions manual;
  manual.interval_seconds = 0;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, manual, &s2).ok());
  EXPECT_EQ(store_->GetSyncStatus(source_)->next_run, 0);
}

TEST_F(SyncTest, ACancelledRunStopsBetweenBatchesAndIsDueAgainAtOnce) {
  CountingConnector c;
  int asked = 0;
  ConnectorSyncOptions opt;
  opt.interval_seconds = 3600;
  opt.cancelled = [&] { return ++asked > 2; };  // two batches, then the server stops
  ConnectorSyncSummary s1;
  EXPECT_FALSE(SyncConnector(*store_, source_, c, opt, &s1).ok());
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 2u);
  auto st = *store_->GetSyncStatus(source_);
  EXPECT_EQ(st.last_success, 0);
  EXPECT_LE(st.next_run, st.last_attempt + 1);
  ASSERT_FALSE(st.errors.empty());
  EXPECT_NE(st.errors.back().find("interrupted"), std::string::npos);
  ConnectorSyncSummary s2;
  ASSERT_TRUE(SyncConnector(*store_, source_, c, {}, &s2).ok());
  EXPECT_EQ(c.started_from, "1");  // resumes after the last committed batch
  EXPECT_EQ(store_->ListDocuments(source_)->size(), 5u);
}

TEST(SyncInterval, SourceConfigThenSecondsThenMinutes) {
  Config config;
  config.sync_interval_min = 60;
  SourceRecord plain;
  EXPECT_EQ(SyncIntervalSeconds(plain, config), 3600);
  config.sync_interval_s = 5;
  EXPECT_EQ(SyncIntervalSeconds(plain, config), 5);
  SourceRecord own;
  own.config_json = R"({"path": "/x", "interval_min": 15})";
  EXPECT_EQ(SyncIntervalSeconds(own, config), 900);
  own.config_json = R"({"interval_min": 0})";
  EXPECT_EQ(SyncIntervalSeconds(own, config), 0);
}

// A stored configuration with a field of another type (a store edited by
// hand) makes that source's connector fail to build, with the reason.
TEST(Sources, AConfigurationFieldOfAnotherTypeIsReportedNotThrown) {
  SourceRecord web;
  web.id = 7;
  web.kind = "web";
  web.name = "site";
  web.config_json = R"({"url": "https://www.example.com/", "max_pages": "many"})";
  auto c = MakeConnector(web, Config{});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().kind(), ErrorKind::kCorrupt);
  EXPECT_NE(c.status().message().find("source 7 has an unreadable configuration"), std::string::npos)
      << c.status().ToString();
  web.config_json = R"({"url": "https://www.example.com/", "max_pages": 5})";
  EXPECT_TRUE(MakeConnector(web, Config{}).ok());
}

TEST_F(SyncTest, ASourceWhoseConnectorCannotBeBuiltRecordsWhyAndItsNextRun) {
  Config config;
  config.sync_interval_min = 10;
  auto source = *store_->GetSource(source_);  // kind "test": no connector
  ConnectorSyncSummary sum;
  Status st = SyncSource(*store_, config, source, IngestOptions{}, &sum);
  EXPECT_FALSE(st.ok());
  auto status = *store_->GetSyncStatus(source_);
  EXPECT_GT(status.last_attempt, 0);
  EXPECT_EQ(status.last_success, 0);
  EXPECT_EQ(status.next_run, status.last_attempt + 600);
  ASSERT_EQ(status.errors.size(), 1u);
  EXPECT_EQ(sum.errors, status.errors);
}

// A web source may carry a credential: sealed like the others (never stored
// in clear), checked for what it must be, optional; errors never echo it.
TEST_F(SyncTest, AWebSourcesCredentialIsOptionalSealedAndChecked) {
  Config config;
  config.secret_key_base64 = SecretKey::GenerateBase64();
  NewSource s;
  s.api = true;
  s.kind = "web";
  s.url = "https://intranet.example.com/";
  s.name = "intranet";
  s.auth = "basic";
  s.token = "alice:s3cret-pass";
  auto id = AddSource(*store_, config, s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto rec = *store_->GetSource(*id);
  EXPECT_EQ(rec.config_json.find("s3cret"), std::string::npos) << "the credential is stored in clear";
  EXPECT_NE(rec.config_json.find("\"auth\":\"basic\""), std::string::npos) << rec.config_json;
  EXPECT_TRUE(SourceHasCredential(rec));
  EXPECT_TRUE(MakeConnector(rec, config).ok());
  EXPECT_FALSE(MakeConnector(rec, Config{}).ok()) << "no key: the sealed credential cannot be opened";

  auto refused = [&](NewSource bad, const std::string& says) {
    bad.name += "-" + std::to_string(std::hash<std::string>{}(says) % 1000);
    auto r = AddSource(*store_, config, bad);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
    EXPECT_EQ(r.status().message().find(bad.token.empty() ? "\x01" : bad.token), std::string::npos)
        << "the error echoes the credential";
  };
  struct Bad {
    const char *auth, *token, *says;
  };
  for (const Bad& c : {Bad{"basic", "no-colon-here", "user:password"},
                       Bad{"digest", "tok-123", "config.auth: 'digest' is not bearer, basic or header"},
                       Bad{"header", "Cookie: a=b\r\nX-Injected: yes", "line break"},
                       Bad{"header", "Host: elsewhere.example.com", "an Authorization, Cookie or X-… header"},
                       Bad{"header", "Range: bytes=0-1", "an Authorization, Cookie or X-… header"},
                       Bad{"header", "", "config.auth: is how a credential is sent"}}) {
    NewSource b = s;
    b.auth = c.auth;
    b.token = c.token;
    refused(b, c.says);
  }
  NewSource b = s;
  b.token = "";
  b.auth = "";
  b.name = "public-site";
  auto plain = AddSource(*store_, config, b);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(SourceHasCredential(*store_->GetSource(*plain)));

  // The credential can be replaced, and the way it is sent changed, later.
  ASSERT_TRUE(UpdateSource(*store_, config, *plain, nlohmann::json{{"credential", "Cookie: session=abc"},
                                                                    {"config", {{"auth", "header"}}}}).ok());
  rec = *store_->GetSource(*plain);
  EXPECT_TRUE(SourceHasCredential(rec));
  EXPECT_EQ(rec.config_json.find("session=abc"), std::string::npos);
  EXPECT_TRUE(MakeConnector(rec, config).ok());
  // Sent another way, the stored credential must still fit; null clears it.
  auto patched = UpdateSource(*store_, config, *id, nlohmann::json{{"config", {{"auth", "header"}}}});
  ASSERT_FALSE(patched.ok());
  EXPECT_NE(patched.message().find("config.auth: the stored credential cannot be sent that way"), std::string::npos)
      << patched.ToString();
  EXPECT_EQ(patched.message().find("s3cret"), std::string::npos);
  ASSERT_TRUE(UpdateSource(*store_, config, *id, nlohmann::json{{"credential", nullptr}}).ok());
  rec = *store_->GetSource(*id);
  EXPECT_FALSE(SourceHasCredential(rec));
  EXPECT_EQ(rec.config_json.find("\"auth\""), std::string::npos) << rec.config_json;
  EXPECT_TRUE(MakeConnector(rec, Config{}).ok()) << "no credential, no key needed";
  EXPECT_EQ(*WebAuthHeader("", "tok"), "Authorization: Bearer tok");
  EXPECT_EQ(*WebAuthHeader("header", "X-Api-Key: k1"), "X-Api-Key: k1");
  EXPECT_EQ(*WebAuthHeader("header", "Cookie: session=abc"), "Cookie: session=abc");
}

TEST(Secret, SealsOpensAndRefusesTheWrongKey) {
  auto key = SecretKey::FromBase64(SecretKey::GenerateBase64());
  ASSERT_TRUE(key.ok());
  std::string sealed = key->Seal("xoxb-secret-token");
  EXPECT_TRUE(IsSealed(sealed));
  EXPECT_EQ(sealed.find("xoxb"), std::string::npos);
  EXPECT_EQ(*key->Open(sealed), "xoxb-secret-token");
  auto other = SecretKey::FromBase64(SecretKey::GenerateBase64());
  EXPECT_EQ(other->Open(sealed).status().kind(), ErrorKind::kCorrupt);
  std::string tampered = sealed;
  tampered[tampered.size() - 3] ^= 1;
  EXPECT_FALSE(key->Open(tampered).ok());
}

TEST(Secret, KeyComesFromFileOrEnvironmentAndErrorsNeverEchoIt) {
  Config c;
  EXPECT_EQ(SecretKey::FromConfig(c).status().kind(), ErrorKind::kNotFound);
  c.secret_key_base64 = "not-a-key-but-secret-looking";
  auto bad = SecretKey::FromConfig(c);
  EXPECT_EQ(bad.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find("secret-looking"), std::string::npos);
  testing::TempDir dir;
  std::string b64 = SecretKey::GenerateBase64();
  FILE* f = fopen((dir / "key").c_str(), "w");
  fprintf(f, "%s\n", b64.c_str());
  fclose(f);
  c.secret_key_file = dir / "key";
  auto from_file = SecretKey::FromConfig(c);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  auto from_b64 = SecretKey::FromBase64(b64);
  EXPECT_EQ(*from_b64->Open(from_file->Seal("t")), "t");
}

}  // namespace
}  // namespace savoir
