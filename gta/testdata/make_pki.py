#!/usr/bin/python3
"""Writes a small PKI for the GTA certificate tests into argv[1], made with
python3-cryptography (an implementation independent of the OpenSSL code
under test): a root and an intermediate CA, AK certificates, bad
certificates, and CRLs. With argv[2], a TPM AK's public key (PEM), also
tpm_ak.pem, that key's certificate from the intermediate CA, and
crl_tpm_ak.pem revoking it."""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

out = sys.argv[1]
now = datetime.datetime.utcnow()
day = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, issuer_key, ca, serial, start=None, end=None,
         digest=hashes.SHA256()):
    builder = (x509.CertificateBuilder()
               .subject_name(name(subject)).issuer_name(name(issuer))
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(start or now - day)
               .not_valid_after(end or now + 365 * day)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    return builder.sign(issuer_key, digest)


def write(path, obj):
    with open(f"{out}/{path}", "wb") as f:
        f.write(obj.public_bytes(serialization.Encoding.PEM))


def crl(issuer, issuer_key, serials, reason=True, next_update=None):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(name(issuer))
               .last_update(now - day)
               .next_update(next_update or now + 30 * day))
    for serial in serials:
        entry = (x509.RevokedCertificateBuilder().serial_number(serial)
                 .revocation_date(now - day))
        if reason:
            entry = entry.add_extension(
                x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, hashes.SHA256())


root_key = rsa.generate_private_key(65537, 2048)
inter_key = ec.generate_private_key(ec.SECP256R1())
ak_key = rsa.generate_private_key(65537, 2048)
stranger_key = ec.generate_private_key(ec.SECP256R1())
write("root.pem", cert("TPM Root CA", root_key, "TPM Root CA", root_key, True, 1))
write("intermediate.pem",
      cert("TPM Intermediate CA", inter_key, "TPM Root CA", root_key, True, 2))
write("ak.pem", cert("TPM AK", ak_key, "TPM Intermediate CA", inter_key, False, 100))
write("ak2.pem", cert("TPM AK 2", ak_key, "TPM Intermediate CA", inter_key, False, 101))
write("self_signed_ak.pem", cert("TPM AK", ak_key, "TPM AK", ak_key, False, 7))
write("stranger.pem",
      cert("Stranger CA", stranger_key, "Stranger CA", stranger_key, True, 3))
weak_key = rsa.generate_private_key(65537, 1024)
write("rsa1024.pem", cert("Weak", weak_key, "Weak", weak_key, True, 4))
write("expired.pem", cert("Old", root_key, "Old", root_key, True, 5,
                          start=now - 10 * day, end=now - 2 * day))
write("sha1.pem", cert("Sha1", root_key, "Sha1", root_key, True, 6,
                       digest=hashes.SHA1()))
write("crl_ak.pem", crl("TPM Intermediate CA", inter_key, [100]))
write("crl_intermediate.pem", crl("TPM Root CA", root_key, [2]))
write("crl_no_reason.pem", crl("TPM Intermediate CA", inter_key, [100], reason=False))
write("crl_stale.pem", crl("TPM Intermediate CA", inter_key, [100],
                           next_update=now - datetime.timedelta(hours=2)))
write("crl_stranger.pem", crl("Stranger CA", stranger_key, [100]))
with open(f"{out}/ak.pub", "wb") as f:
    f.write(ak_key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo))

if len(sys.argv) > 2:
    with open(sys.argv[2], "rb") as f:
        tpm_ak = serialization.load_pem_public_key(f.read())
    cert_builder = (x509.CertificateBuilder()
                    .subject_name(name("swtpm AK")).issuer_name(name("TPM Intermediate CA"))
                    .public_key(tpm_ak).serial_number(200)
                    .not_valid_before(now - day).not_valid_after(now + 365 * day)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                   critical=True))
    write("tpm_ak.pem", cert_builder.sign(inter_key, hashes.SHA256()))
    write("crl_tpm_ak.pem", crl("TPM Intermediate CA", inter_key, [200]))

# Reference values signed with PyJWT by a refvalue certificate's key (RS384,
# as GTA's tools sign), by an EC key (ES256), and by a stranger.
import jwt  # noqa: E402

refvalue_key = rsa.generate_private_key(65537, 2048)
write("refvalue_signer.pem",
      cert("Reference Values", refvalue_key, "Reference Values", refvalue_key,
           True, 8))
payload = {"referenceValues": [
    {"fileName": "/usr/bin/sh", "sha256": "aa" * 32},
    {"fileName": "/usr/bin/ls", "sha256": "BB" * 32}]}
with open(f"{out}/ref_values.jws", "w") as f:
    f.write(jwt.encode(payload, refvalue_key, algorithm="RS384"))
with open(f"{out}/ref_values_ec.jws", "w") as f:
    f.write(jwt.encode({"referenceValues": [{"fileName": "/x", "sha256": "cc" * 32}]},
                       inter_key, algorithm="ES256"))
with open(f"{out}/ref_values_stranger.jws", "w") as f:
    f.write(jwt.encode(payload, stranger_key, algorithm="ES256"))
with open(f"{out}/ref_values_bad_digest.jws", "w") as f:
    f.write(jwt.encode({"referenceValues": [{"fileName": "/x", "sha256": "zz"}]},
                       refvalue_key, algorithm="RS384"))
import base64  # noqa: E402

signed_policy = base64.b64encode(
    b'package verification\nresult := {"policy_matched": true}\n').decode()
with open(f"{out}/signed_policy.jws", "w") as f:
    f.write(jwt.encode({"policy": signed_policy}, refvalue_key,
                       algorithm="RS512"))

# TLS client certificates (with keys) from the root: one a key manager
# client, one not.
for client in ("vault_client", "other_client"):
    client_key = ec.generate_private_key(ec.SECP256R1())
    write(f"{client}.pem", cert(client, client_key, "TPM Root CA", root_key,
                                False, 300 + len(client)))
    with open(f"{out}/{client}.key", "wb") as f:
        f.write(client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
