"""careclock deliveries test (issue 21): one clearly marked test message
through the configured channel, reporting exactly what the server said and
what to change. Against real servers on loopback: aiosmtpd
(tests/integration/mailsink.py) accepting, refusing the password (535) and
answering 500 to the message; the webhook receiver
(tests/integration/hooksink.py) accepting a signed request and answering
500."""
import email
import email.policy
import glob
import json
import os
import subprocess
import tempfile
import unittest

from test_delivery import BIN, SECRET, Server

TO = "it-team@council.example"


class TestSend(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.servers = []
        self.password = os.path.join(self.dir, "smtp-password")
        with open(self.password, "w") as f:
            f.write("correct horse\n")
        self.secret = os.path.join(self.dir, "webhook-secret")
        with open(self.secret, "w") as f:
            f.write(SECRET + "\n")

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmp.cleanup()

    def server(self, script, *args):
        directory = os.path.join(self.dir, "sink%d" % len(self.servers))
        s = Server(script, directory, *args)
        self.servers.append(s)
        return s

    def conf(self, text):
        path = os.path.join(self.dir, "careclock.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def smtp_conf(self, port, auth=True):
        text = "[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = careclock@council.example\ntls = none\n" % port
        if auth:
            text += "username = careclock\npassword_file = %s\n" % self.password
        return self.conf(text)

    def run_test(self, conf, *args):
        return subprocess.run([BIN, "--config", conf, "deliveries", "test"] + list(args), capture_output=True,
                              text=True, timeout=60)

    def test_accepted_by_the_relay(self):
        sink = self.server("mailsink.py", "--user", "careclock", "--password", "correct horse")
        p = self.run_test(self.smtp_conf(sink.port), "--to", TO)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("sending a test message to %s through smtp://127.0.0.1:%d" % (TO, sink.port), p.stdout)
        # aiosmtpd's own answer to the message's end, word for word
        self.assertIn("accepted: the server answered: 250 OK: queued\n", p.stdout)
        [eml] = glob.glob(os.path.join(sink.directory, "*.eml"))
        with open(eml, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "careclock test message: no action needed")
        self.assertEqual(msg["To"].addresses[0].addr_spec, TO)
        self.assertEqual(msg["Auto-Submitted"], "auto-generated")
        self.assertIn("Message-ID: %s" % msg["Message-ID"], p.stdout)
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("This is a test message from careclock", text)
        self.assertIn("no child's data", text)
        with open(eml[:-4] + ".json") as f:
            meta = json.load(f)
        self.assertEqual(meta["rcpt_tos"], [TO])
        self.assertTrue(meta["authenticated"])

    def test_wrong_password_535(self):
        sink = self.server("mailsink.py", "--user", "careclock", "--password", "another password")
        p = self.run_test(self.smtp_conf(sink.port), "--to", TO)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("the server answered: 535 5.7.8 Authentication credentials invalid\n", p.stderr)
        self.assertIn("what to do: the server refused the user name or password: check [smtp] username and "
                      "password_file\n", p.stderr)
        self.assertEqual(glob.glob(os.path.join(sink.directory, "*.eml")), [])

    def test_relay_answers_500(self):
        sink = self.server("mailsink.py", "--reply-data", "500 5.0.0 Test relay refuses everything")
        p = self.run_test(self.smtp_conf(sink.port, auth=False), "--to", TO)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("the server answered: 500 5.0.0 Test relay refuses everything\n", p.stderr)
        self.assertIn("what to do: the server refused it (a permanent SMTP error)", p.stderr)

    def test_relay_not_listening(self):
        sink = self.server("mailsink.py")
        port = sink.port
        sink.stop()
        self.servers.remove(sink)
        p = self.run_test(self.smtp_conf(port, auth=False), "--to", TO)
        self.assertEqual(p.returncode, 1)
        self.assertIn("what to do: careclock could not talk to the server: check the host and port of [smtp] url",
                      p.stderr)

    def test_password_file_unreadable_names_the_reason(self):
        os.unlink(self.password)
        os.mkdir(self.password)
        sink = self.server("mailsink.py")
        p = self.run_test(self.smtp_conf(sink.port), "--to", TO)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read [smtp] password_file %s: Is a directory" % self.password, p.stderr)

    def test_webhook_accepted_signed(self):
        hook = self.server("hooksink.py", "--secret", SECRET)
        conf = self.conf("[webhook:east]\nurl = http://127.0.0.1:%d/hook\nformat = generic\nsecret_file = %s\n"
                         % (hook.port, self.secret))
        p = self.run_test(conf, "--webhook", "east")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("sending a test message to webhook east (generic format, signed, at 127.0.0.1:%d)" % hook.port,
                      p.stdout)
        self.assertRegex(p.stdout, r'accepted: the server answered: HTTP/1\.\d 200 OK -- \{"ok":true\}\n')
        with open(os.path.join(hook.directory, "requests.jsonl")) as f:
            [req] = [json.loads(l) for l in f]
        self.assertTrue(req["signature_valid"])
        body = json.loads(req["body"])
        self.assertEqual(body["type"], "careclock.test")
        self.assertEqual(body["items"], [])
        self.assertEqual(body["summary"], "careclock test message: no action needed")

    def test_webhook_answers_500(self):
        hook = self.server("hooksink.py", "--script", "500")
        conf = self.conf("[webhook:east]\nurl = http://127.0.0.1:%d/hook\nformat = slack\n" % hook.port)
        p = self.run_test(conf, "--webhook", "east")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r'the server answered: HTTP/1\.\d 500 Internal Server Error -- \{"ok":false\}\n')
        self.assertIn("what to do: the endpoint failed or is busy (HTTP 500)", p.stderr)

    def test_refusals_before_sending(self):
        conf = self.conf("[webhook:east]\nurl = http://127.0.0.1:9/hook\n")
        for args, needle in ((["--webhook", "west"], "no [webhook:west] in %s; the webhooks configured: east" % conf),
                             (["--to", TO], "email is not configured ([smtp] url is not set): set [smtp] url"),
                             (["--to", "not an address"], '--to "not an address" is not an email address'),
                             ([], "give one of --to ADDRESS and --webhook NAME"),
                             (["--to", TO, "--webhook", "east"], "give one of --to ADDRESS and --webhook NAME")):
            p = self.run_test(conf, *args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(needle, p.stderr)

    def test_file_channel(self):
        out = os.path.join(self.dir, "outbox-files")
        conf = self.conf("[notify]\nfile_channel = %s\n" % out)
        p = self.run_test(conf, "--to", TO)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("written: %s/careclock-test.eml" % out, p.stdout)
        with open(os.path.join(out, "careclock-test.eml")) as f:
            self.assertIn("Subject: careclock test message: no action needed", f.read())


if __name__ == "__main__":
    unittest.main()
