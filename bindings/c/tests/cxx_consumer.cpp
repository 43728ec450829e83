// A C++ program that uses the installed library as a C++ user would: the header from
// `pkg-config --cflags wa_flows_crypto`, the library from `--libs`. scripts/test-dist.sh builds
// it with g++ against the installed prefix; it is not part of the C test suite.
#include <wa_flows_crypto.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

struct KeyFree {
    void operator()(wfc_private_key *key) const { wfc_private_key_free(key); }
};
using Key = std::unique_ptr<wfc_private_key, KeyFree>;

int fail(const char *what, wfc_status status) {
    std::fprintf(stderr, "FAIL %s: %s\n", what, wfc_status_str(status));
    return 1;
}

}  // namespace

int main() {
    std::string version = wfc_version();
    if (version.empty()) return fail("wfc_version", WFC_STATUS_OK);

    // Sign a body and verify it; a changed body must fail with 432.
    const std::string body = R"({"encrypted_flow_data":"x"})";
    const std::string secret = "app secret";
    std::vector<uint8_t> header(WFC_SIGNATURE_HEADER_LEN);
    size_t header_len = 0;
    wfc_status status = wfc_sign(reinterpret_cast<const uint8_t *>(body.data()), body.size(),
                                 reinterpret_cast<const uint8_t *>(secret.data()), secret.size(),
                                 header.data(), header.size(), &header_len);
    if (status != WFC_STATUS_OK) return fail("wfc_sign", status);
    status = wfc_verify_signature(reinterpret_cast<const uint8_t *>(body.data()), body.size(),
                                  header.data(), header_len,
                                  reinterpret_cast<const uint8_t *>(secret.data()), secret.size());
    if (status != WFC_STATUS_OK) return fail("wfc_verify_signature", status);
    const std::string other = body + " ";
    status = wfc_verify_signature(reinterpret_cast<const uint8_t *>(other.data()), other.size(),
                                  header.data(), header_len,
                                  reinterpret_cast<const uint8_t *>(secret.data()), secret.size());
    if (status != WFC_STATUS_INVALID_SIGNATURE || wfc_status_http_status(status) != 432)
        return fail("a changed body verified", status);

    // A fresh key and its public PEM, through RAII.
    wfc_private_key *raw = nullptr;
    status = wfc_private_key_generate(0, &raw);
    if (status != WFC_STATUS_OK) return fail("wfc_private_key_generate", status);
    Key key(raw);
    if (wfc_private_key_bits(key.get()) != WFC_DEFAULT_KEY_BITS)
        return fail("wfc_private_key_bits", WFC_STATUS_OK);
    std::string pem(wfc_private_key_public_pem_len(key.get()), '\0');
    size_t pem_len = 0;
    status = wfc_private_key_public_pem(key.get(), reinterpret_cast<uint8_t *>(&pem[0]),
                                        pem.size(), &pem_len);
    if (status != WFC_STATUS_OK) return fail("wfc_private_key_public_pem", status);
    if (pem.compare(0, 26, "-----BEGIN PUBLIC KEY-----") != 0)
        return fail("not a public key PEM", WFC_STATUS_OK);

    std::printf("C++ consumer OK: wa_flows_crypto %s, %zu-byte public key PEM\n",
                version.c_str(), pem_len);
    return 0;
}
