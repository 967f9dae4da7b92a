/**
 * @module x509/crafted.fixture
 * Certificates made with OpenSSL 3.0.19 (Debian 12) for cases the CT vectors lack: Ed25519/Ed448,
 * P-384/P-521/secp256k1 and RSA-PSS keys, negative and padded serials, v1 certificates, a
 * GeneralizedTime, a multi-valued RDN, T61String/BMPString values, RFC 4514 special characters,
 * and SANs with iPAddress, rfc822Name, URI and otherName entries. Generated once by the commands
 * shown (private keys discarded); test-only, imported by the x509 tests.
 */

/**
 *   openssl req -x509 -newkey ed25519 -days 30 -set_serial -5 -subj '/CN=Example\, Inc.
 *   "q"/O=#Hash\+Plus;Semi<Lt>/OU= lead and trail /C=DE' -addext
 *   'subjectAltName=DNS:Mixed.Example.COM,IP:192.0.2.1,IP:2001:db8::1,IP:::ffff:192.0.2.1,email:a@b.example,URI:https://x.example/,otherName:1.2.3.4;UTF8:hello,DNS:second.example'
 *   -addext 'basicConstraints=critical,CA:TRUE,pathlen:0'
 */
export const ed25519San = `-----BEGIN CERTIFICATE-----
MIICVjCCAgigAwIBAgIB+zAFBgMrZXAwYjEaMBgGA1UEAwwRRXhhbXBsZSwgSW5j
LiAicSIxHDAaBgNVBAoMEyNIYXNoK1BsdXM7U2VtaTxMdD4xGTAXBgNVBAsMECBs
ZWFkIGFuZCB0cmFpbCAxCzAJBgNVBAYTAkRFMB4XDTI2MTEyNDAzMjI0MFoXDTI2
MTIyNDAzMjI0MFowYjEaMBgGA1UEAwwRRXhhbXBsZSwgSW5jLiAicSIxHDAaBgNV
BAoMEyNIYXNoK1BsdXM7U2VtaTxMdD4xGTAXBgNVBAsMECBsZWFkIGFuZCB0cmFp
bCAxCzAJBgNVBAYTAkRFMCowBQYDK2VwAyEAImf1Bz5gLJlpmF1jvrmvO4Hw2EKR
xWArsXZB48VsaOajgeIwgd8wHQYDVR0OBBYEFLqsNm/Dh3bqiPOHSgnPBzz+8N6Q
MB8GA1UdIwQYMBaAFLqsNm/Dh3bqiPOHSgnPBzz+8N6QMIGIBgNVHREEgYAwfoIR
TWl4ZWQuRXhhbXBsZS5DT02HBMAAAgGHECABDbgAAAAAAAAAAAAAAAGHEAAAAAAA
AAAAAAD//8AAAgGBC2FAYi5leGFtcGxlhhJodHRwczovL3guZXhhbXBsZS+gDgYD
KgMEoAcMBWhlbGxvgg5zZWNvbmQuZXhhbXBsZTASBgNVHRMBAf8ECDAGAQH/AgEA
MAUGAytlcANBANnCTiXM0blQ+mZYMSshiad5RS+To3WuswxZsIIi1n281dtixMfj
pMGJjNmvNUFN7so0WmpHmPYn0sV1XN2O6wY=
-----END CERTIFICATE-----
`;

/**
 *   openssl req -new -multivalue-rdn -subj '/CN=multi.example.net+UID=u1/DC=example/DC=net' | openssl
 *   x509 -req -days 30 -set_serial 255   (Ed448 key; no extensions, so version 1)
 */
export const ed448V1 = `-----BEGIN CERTIFICATE-----
MIIBrDCCASwCAgD/MAUGAytlcTBcMSwwEAYKCZImiZPyLGQBAQwCdTEwGAYDVQQD
DBFtdWx0aS5leGFtcGxlLm5ldDEXMBUGCgmSJomT8ixkARkWB2V4YW1wbGUxEzAR
BgoJkiaJk/IsZAEZFgNuZXQwHhcNMjYxMTI0MDMyMjQwWhcNMjYxMjI0MDMyMjQw
WjBcMSwwEAYKCZImiZPyLGQBAQwCdTEwGAYDVQQDDBFtdWx0aS5leGFtcGxlLm5l
dDEXMBUGCgmSJomT8ixkARkWB2V4YW1wbGUxEzARBgoJkiaJk/IsZAEZFgNuZXQw
QzAFBgMrZXEDOgDA+uLgFNQ2B2nPj/yzLTR6t/kzu+FsEvztSnK8YU+9/qLcsezz
tIg1RSow6iCux86ev5R+kiF+O4AwBQYDK2VxA3MAYsv8nn73joIooBX+w5BrK6Ny
qxC8gyO8rvDg5WfAkI7akKaKm8jsSElOTpW7ymQhe7HcH4gfOKYAjpKsKkVaDuk9
OkPxgK2lHQsEd4AO25RHP+mXLsxxUdKuqA9pEp3HKMV9Z9H88R+wpMTw+mLPkx0A
-----END CERTIFICATE-----
`;

/**
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -days 30 -set_serial 0x00 -subj
 *   /CN=Host-p384.Example.ORG
 */
export const ecP384 = `-----BEGIN CERTIFICATE-----
MIIBvzCCAUWgAwIBAgIBADAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVIb3N0LXAz
ODQuRXhhbXBsZS5PUkcwHhcNMjYxMTI0MDMyMjQwWhcNMjYxMjI0MDMyMjQwWjAg
MR4wHAYDVQQDDBVIb3N0LXAzODQuRXhhbXBsZS5PUkcwdjAQBgcqhkjOPQIBBgUr
gQQAIgNiAAS+jC3tiHfdfKKsWejSFIBZWCU4pI/Wjx5kPICPF50LW89p9witikX0
BnbyeKvRzZX+O23IvIn62RoCg+FqPsBEhbQ3kMOOF2jWn95rBBcJ9oqDvSgYygnb
mXMb6iZQLUijUzBRMB0GA1UdDgQWBBRuQJnT8CDkZJCoC+iGOY6RgKJ+LjAfBgNV
HSMEGDAWgBRuQJnT8CDkZJCoC+iGOY6RgKJ+LjAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA2gAMGUCMQDbO71xPbM+ESwrA/sNJsjN1NmqrytKE4mtwJ/Rxhmk
opGqtxaP+hF45VgPjbmdCh4CMC7T1h5C9OsDu5zhbt8AZBrVnIrXqdougSJue4Ze
zVRhkNGt+PqWzePivBr3kAvlRg==
-----END CERTIFICATE-----
`;

/**
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp521r1 -days 36500 -set_serial 0x00 -subj
 *   /CN=Host-p521.Example.ORG   (notAfter is a GeneralizedTime)
 */
export const ecP521 = `-----BEGIN CERTIFICATE-----
MIICDDCCAW2gAwIBAgIBADAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVIb3N0LXA1
MjEuRXhhbXBsZS5PUkcwIBcNMjYxMTI0MDMyMjQ4WhgPMjEyNjEwMzEwMzIyNDha
MCAxHjAcBgNVBAMMFUhvc3QtcDUyMS5FeGFtcGxlLk9SRzCBmzAQBgcqhkjOPQIB
BgUrgQQAIwOBhgAEACAjI/ri6L/KLPRXEc+10BwIPjJjVM8xlGqEtfwrNB3Zbmp/
3/pFlKH2iORF86zknIMQczk3Hp6S5JCThsdDgQjZAJmmlixp6zNEel0RPvlcZYpq
t4PECUcgU8khUtmyZYygGDdMo9OIF0CAlGijW1FdOcGRQgfYfd/W1E9nIyc1essP
o1MwUTAdBgNVHQ4EFgQUMNEhdgWRAROyj3OBc14ZRm3cmlcwHwYDVR0jBBgwFoAU
MNEhdgWRAROyj3OBc14ZRm3cmlcwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD
AgOBjAAwgYgCQgCFBbfEno3NZfnbiwlfvkIPA5QWjTN5Ps+10Gsz8vNLnxRxMnx8
N9NRVL2Qp+q2WqDrKHTEZQa/VQTO1tJwf+TvWAJCAZG44c5cNTV+jdyPsQdlMFJ6
mz33yeJ8TQgKo6OpRktpTBEXM7xZmODNQu9sbWhPTd/4XKC2VgEyJ7/oS2F4wP5q
-----END CERTIFICATE-----
`;

/**
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -days 30 -set_serial 0x00 -subj
 *   /CN=Host-k256.Example.ORG
 */
export const ecK256 = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIBADAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVIb3N0LWsy
NTYuRXhhbXBsZS5PUkcwHhcNMjYxMTI0MDMyMjQwWhcNMjYxMjI0MDMyMjQwWjAg
MR4wHAYDVQQDDBVIb3N0LWsyNTYuRXhhbXBsZS5PUkcwVjAQBgcqhkjOPQIBBgUr
gQQACgNCAATgcY4HRsx3WnCPNWpOf7oQ9vglI2ezj8rbeSaDt1wOqHp8mzqlK96G
GuDgRYjIMXwpz7UZCS15I8bS4CkuPq+/o1MwUTAdBgNVHQ4EFgQUBQy5pmBr5LKu
OX6D9ZvuobuqEe4wHwYDVR0jBBgwFoAUBQy5pmBr5LKuOX6D9ZvuobuqEe4wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBkaMt9T2GbnQQ7LQ64S5ri
8veU6P0U0fikKn1PClSVawIhAMa0mOeukKroMiiXSfG81iKw/1T8Kd0f9bcL8I9k
XfJg
-----END CERTIFICATE-----
`;

/**
 *   openssl req -x509 -config <string_mask = default, utf8 = yes> -newkey rsa:3072 -days 30 -set_serial
 *   0x7fffffffffffffffffff -subj '/CN=Müller/O=Łódź €/L=Zürich'   (T61String and BMPString values; v1)
 */
export const rsa3072Intl = `-----BEGIN CERTIFICATE-----
MIID7zCCAlcCCn////////////8wDQYJKoZIhvcNAQELBQAwOTEPMA0GA1UEAxQG
TfxsbGVyMRUwEwYDVQQKHgwBQQDzAGQBegAgIKwxDzANBgNVBAcUBlr8cmljaDAe
Fw0yNjExMjQwMzIyNDFaFw0yNjEyMjQwMzIyNDFaMDkxDzANBgNVBAMUBk38bGxl
cjEVMBMGA1UECh4MAUEA8wBkAXoAICCsMQ8wDQYDVQQHFAZa/HJpY2gwggGiMA0G
CSqGSIb3DQEBAQUAA4IBjwAwggGKAoIBgQCpytNiEJLiZ7cr8x5+w4MIZjQpdYtB
2E8umGFyVWNRXijeTpuIV4fBtrUDfUNCibxkgi0M+Iy5XVRzc/96G7Bk6hrwNdkn
3N08TIrIPxlWev99P9Iy+iO/UqL+GBWk78uKykUXBVs6R8949laJQs8rPwDv/cXZ
bs+AuDIvAKkfkLo4fRHmFV9g/7ifb49U3c7p1+WNcpPULH1OfY6dgb8sQlleReDz
e0cJATH5yR0voInlaxStcVk+zuDtEEGESv3vFikGFUGZcQNPb48XAZnVNIsWCeQ1
Bk7o47Rnjxw5FNIstTOBpbg6zNqgIVOpzJ5jXuuNfcMRQZ0H6OFWxe6oMElREsCp
wa/90zzZ4kfeDXsJyvVYZg9QZ3/eBaJx/LDQYVg4tdvHZ0L8JeyNrpaBLF6fVV0b
KBnoNR//unx7UuWXWQnCp3Z03qDI85eSEsOoRBMkIkCqDlg/5kT2qENenCHqfP1V
lXjKnMj4mvQl5w6Oix9gGZWGuoCXCLMClikCAwEAATANBgkqhkiG9w0BAQsFAAOC
AYEAKcA08QcATKBubKFUSc6QffrWzVWHK0Gb6taQ/U+cSlgXqvF+BNWiCJAi9B1m
UkdEhLqdQZkh7kE9MkJS8xAgqkkTXdfEz9lliRSQHgVvowV+MLIJMcpSsjCXcKp0
Lir58QcfCQRSE+2JlWcw3t4fOSoemYIXSWxsg5k/IK2R4ac1kkKUJ3i7CSXuqsK+
tZw9Cx1YWYHm1uYNDddQytDXePRVwhq08AHs+0nLvP1n7VuI1XHwRklHNN7bbUUD
AR7y914dwd+Qr5tDviqO0uSICZc4dZVgf97paf3976huAOYEEC8VHwDE+XJHnGDk
9dgdVXG4O7giGCZ8qfiJH/c4aOpoXp8xGLn86KJs6tFYJpe9ek6Ntl5nGna4Z8H7
vgCOspYMjnqzd9w9W9dw9NxruyutvtLVTUTRo9xAmpOFo6jy39sxnpaUx/X9zsfS
PC2ZT8JAjGLRNVeqeL7gLyYHdWR2AYLg/6AnRH9T/Gv67MoTp5uI3ePnkPzVnnsJ
em26
-----END CERTIFICATE-----
`;

/**
 *   openssl req -x509 -newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -days 30 -subj /CN=192.0.2.7 -addext
 *   subjectAltName=IP:192.0.2.7
 */
export const rsaPss = `-----BEGIN CERTIFICATE-----
MIIDgjCCAjWgAwIBAgIUYRVbe/mH1L8Iu0DKqwMncZsrTy0wQgYJKoZIhvcNAQEK
MDWgDzANBglghkgBZQMEAgEFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgEF
AKIEAgIA3jAUMRIwEAYDVQQDDAkxOTIuMC4yLjcwHhcNMjYxMTI0MDMyMjQxWhcN
MjYxMjI0MDMyMjQxWjAUMRIwEAYDVQQDDAkxOTIuMC4yLjcwggEgMAsGCSqGSIb3
DQEBCgOCAQ8AMIIBCgKCAQEAx3JWgpsjXRHYGzdpxWzRbvpnAjwawJn15gjdNnQc
TICZY/ASG1SEXNiE+VB23QdRaB4D0CpdZGDPb6tTqjWGCyjWqoeyDCP7qvW4tyfj
KSRB4k0xopru/dts9BfUGDKjvDufwENGKqaQ+NkLtKuO7NGwOU0n+ooqRCUlL4D9
puCh6ut3+N/kvkABI6be9q1SQyM4u9sN/xa/1I+f0PdbJLH1mqaoh2F7A2heRYV4
iOBlFQkrBPdyiGy9o1G9mOHY8rqIdZHf5qrO0M+TUrbyOIcsY7A92P4FoO3+QQxl
ZboDeoDvVPmy9wp8kzKMAhfbr36i5yUNUIfoWAPJI0/bCQIDAQABo2QwYjAdBgNV
HQ4EFgQUKSaikGEXevIQu/yOBrKl0IlRgX8wHwYDVR0jBBgwFoAUKSaikGEXevIQ
u/yOBrKl0IlRgX8wDwYDVR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwTAAAIHMEIG
CSqGSIb3DQEBCjA1oA8wDQYJYIZIAWUDBAIBBQChHDAaBgkqhkiG9w0BAQgwDQYJ
YIZIAWUDBAIBBQCiBAICAN4DggEBAC1oHo0UK9bKTqjgXrDJEg/IVn67zr+SLiFg
Q9NmYtNOhzWUTdY40UkhmE+9npLFtqZ7GaZ3G1X8Kpy2+BNL7lJv6JG4HNE/OCUf
DhYDeMasi1J+icbQFiiSgvJugPOevS9MPD8JHfIZ18KKjLDJgiJ03xXhYhnqiD2N
58qWyDFwkFbjcrtX2nOF/pLaGcl9ot4BroY/vC9rCoYQKo5MQff5H8SDj3bzsZzE
zpIPYIfnlV29ehw8BSsVWHILX97Gao5PkGU7Klzrnm/uyY2nHH55cXyANRS7mKZ4
sdLCkJxHCoGxR8mBUt62LtoL928dANsc44EUyHz2mwfFl+c9UJA=
-----END CERTIFICATE-----
`;
