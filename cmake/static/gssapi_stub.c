/* Static builds only (-DAMLOPS_STATIC=ON). Debian's libgit2.a refers to GSSAPI for HTTP
 * "Negotiate" (Kerberos) authentication to remote git servers, its pkg-config file does not say so,
 * and Debian ships no static GSSAPI library. amlops only reads local repositories (HEAD, status,
 * history), so these stand-ins make libgit2 find no GSSAPI mechanism: every call reports
 * GSS_S_FAILURE and libgit2 offers no Negotiate authentication. Signatures as in RFC 2744. */
#include <stdint.h>

#define AMLOPS_GSS_S_FAILURE (13u << 16)

typedef uint32_t OM_uint32;
typedef void* gss_OID;
typedef void* gss_OID_set;
typedef void* gss_buffer_t;
typedef void* gss_ctx_id_t;
typedef void* gss_name_t;
typedef void* gss_cred_id_t;
typedef void* gss_channel_bindings_t;

gss_OID GSS_C_NT_HOSTBASED_SERVICE = 0;

static OM_uint32 fail(OM_uint32* minor) {
  if (minor) *minor = 0;
  return AMLOPS_GSS_S_FAILURE;
}

OM_uint32 gss_display_status(OM_uint32* minor, OM_uint32 status, int type, gss_OID mech, OM_uint32* ctx,
                             gss_buffer_t out) {
  (void)status, (void)type, (void)mech, (void)ctx, (void)out;
  return fail(minor);
}
OM_uint32 gss_release_buffer(OM_uint32* minor, gss_buffer_t buffer) {
  (void)buffer;
  return fail(minor);
}
OM_uint32 gss_delete_sec_context(OM_uint32* minor, gss_ctx_id_t* ctx, gss_buffer_t out) {
  (void)ctx, (void)out;
  return fail(minor);
}
OM_uint32 gss_import_name(OM_uint32* minor, gss_buffer_t in, gss_OID type, gss_name_t* out) {
  (void)in, (void)type, (void)out;
  return fail(minor);
}
OM_uint32 gss_release_name(OM_uint32* minor, gss_name_t* name) {
  (void)name;
  return fail(minor);
}
OM_uint32 gss_init_sec_context(OM_uint32* minor, gss_cred_id_t cred, gss_ctx_id_t* ctx, gss_name_t target,
                               gss_OID mech, OM_uint32 flags, OM_uint32 time_req, gss_channel_bindings_t cb,
                               gss_buffer_t in, gss_OID* actual, gss_buffer_t out, OM_uint32* ret_flags,
                               OM_uint32* time_rec) {
  (void)cred, (void)ctx, (void)target, (void)mech, (void)flags, (void)time_req, (void)cb, (void)in, (void)actual,
      (void)out, (void)ret_flags, (void)time_rec;
  return fail(minor);
}
OM_uint32 gss_indicate_mechs(OM_uint32* minor, gss_OID_set* set) {
  if (set) *set = 0;
  return fail(minor);
}
OM_uint32 gss_release_oid_set(OM_uint32* minor, gss_OID_set* set) {
  (void)set;
  return fail(minor);
}
