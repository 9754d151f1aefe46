/* Static builds only (-DAMLOPS_STATIC=ON). Debian's libgit2.a refers to libssh2 for ssh:// remotes,
 * and libssh2.a brings most of OpenSSL's libcrypto with it (its ciphers, RSA, DSA, ECDSA, engines),
 * a few MB of every binary that reads a repository. amlops only reads local repositories (HEAD,
 * status, history) and never talks to a git remote, so these stand-ins take libssh2's place:
 * libssh2_init succeeds (libgit2 calls it at start-up) and a session is never created, so an
 * ssh:// remote would fail with libgit2's "failed to initialize SSH session". Signatures come from
 * Debian's <libssh2.h> (libssh2-1-dev), so a changed prototype fails to compile. The list is what
 * libgit2.a uses: nm -u libgit2.a | grep libssh2_. */
#include <libssh2.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"

int libssh2_agent_connect(LIBSSH2_AGENT* agent) { return LIBSSH2_ERROR_SOCKET_NONE; }
int libssh2_agent_disconnect(LIBSSH2_AGENT* agent) { return LIBSSH2_ERROR_SOCKET_NONE; }
void libssh2_agent_free(LIBSSH2_AGENT* agent) {}
int libssh2_agent_get_identity(LIBSSH2_AGENT* agent, struct libssh2_agent_publickey** store,
                               struct libssh2_agent_publickey* prev) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
LIBSSH2_AGENT* libssh2_agent_init(LIBSSH2_SESSION* session) { return 0; }
int libssh2_agent_list_identities(LIBSSH2_AGENT* agent) { return LIBSSH2_ERROR_SOCKET_NONE; }
int libssh2_agent_userauth(LIBSSH2_AGENT* agent, const char* username, struct libssh2_agent_publickey* identity) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_channel_close(LIBSSH2_CHANNEL* channel) { return LIBSSH2_ERROR_SOCKET_NONE; }
int libssh2_channel_free(LIBSSH2_CHANNEL* channel) { return LIBSSH2_ERROR_SOCKET_NONE; }
LIBSSH2_CHANNEL* libssh2_channel_open_ex(LIBSSH2_SESSION* session, const char* channel_type,
                                         unsigned int channel_type_len, unsigned int window_size,
                                         unsigned int packet_size, const char* message, unsigned int message_len) {
  return 0;
}
int libssh2_channel_process_startup(LIBSSH2_CHANNEL* channel, const char* request, unsigned int request_len,
                                    const char* message, unsigned int message_len) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL* channel, int stream_id, char* buf, size_t buflen) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
void libssh2_channel_set_blocking(LIBSSH2_CHANNEL* channel, int blocking) {}
ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL* channel, int stream_id, const char* buf, size_t buflen) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
void libssh2_exit(void) {}
const char* libssh2_hostkey_hash(LIBSSH2_SESSION* session, int hash_type) { return 0; }
int libssh2_init(int flags) { return 0; /* libgit2 initialises its SSH transport at start-up */ }
int libssh2_knownhost_checkp(LIBSSH2_KNOWNHOSTS* hosts, const char* host, int port, const char* key, size_t keylen,
                             int typemask, struct libssh2_knownhost** knownhost) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
void libssh2_knownhost_free(LIBSSH2_KNOWNHOSTS* hosts) {}
LIBSSH2_KNOWNHOSTS* libssh2_knownhost_init(LIBSSH2_SESSION* session) { return 0; }
int libssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS* hosts, const char* filename, int type) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
void** libssh2_session_abstract(LIBSSH2_SESSION* session) { return 0; }
int libssh2_session_disconnect_ex(LIBSSH2_SESSION* session, int reason, const char* description, const char* lang) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_session_free(LIBSSH2_SESSION* session) { return LIBSSH2_ERROR_SOCKET_NONE; }
int libssh2_session_handshake(LIBSSH2_SESSION* session, libssh2_socket_t sock) { return LIBSSH2_ERROR_SOCKET_NONE; }
const char* libssh2_session_hostkey(LIBSSH2_SESSION* session, size_t* len, int* type) { return 0; }
LIBSSH2_SESSION* libssh2_session_init_ex(LIBSSH2_ALLOC_FUNC((*my_alloc)), LIBSSH2_FREE_FUNC((*my_free)),
                                         LIBSSH2_REALLOC_FUNC((*my_realloc)), void* abstract) {
  return 0;
}
int libssh2_session_last_error(LIBSSH2_SESSION* session, char** errmsg, int* errmsg_len, int want_buf) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_session_method_pref(LIBSSH2_SESSION* session, int method_type, const char* prefs) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
void libssh2_session_set_blocking(LIBSSH2_SESSION* session, int blocking) {}
int libssh2_userauth_authenticated(LIBSSH2_SESSION* session) { return LIBSSH2_ERROR_SOCKET_NONE; }
int libssh2_userauth_keyboard_interactive_ex(LIBSSH2_SESSION* session, const char* username, unsigned int username_len,
                                             LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*response_callback))) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
char* libssh2_userauth_list(LIBSSH2_SESSION* session, const char* username, unsigned int username_len) { return 0; }
int libssh2_userauth_password_ex(LIBSSH2_SESSION* session, const char* username, unsigned int username_len,
                                 const char* password, unsigned int password_len,
                                 LIBSSH2_PASSWD_CHANGEREQ_FUNC((*passwd_change_cb))) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_userauth_publickey(LIBSSH2_SESSION* session, const char* username, const unsigned char* pubkeydata,
                               size_t pubkeydata_len, LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)),
                               void** abstract) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_userauth_publickey_fromfile_ex(LIBSSH2_SESSION* session, const char* username, unsigned int username_len,
                                           const char* publickey, const char* privatekey, const char* passphrase) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
int libssh2_userauth_publickey_frommemory(LIBSSH2_SESSION* session, const char* username, size_t username_len,
                                          const char* publickeyfiledata, size_t publickeyfiledata_len,
                                          const char* privatekeyfiledata, size_t privatekeyfiledata_len,
                                          const char* passphrase) {
  return LIBSSH2_ERROR_SOCKET_NONE;
}
