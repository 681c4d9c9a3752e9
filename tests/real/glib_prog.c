/* glib_prog: GSlice and GHashTable heavy GLib program for tests/real/glib.sh:
 * g_slice_alloc/g_slice_free of many sizes (GLib 2.74's GSlice gets slabs
 * with posix_memalign; G_SLICE=always-malloc sends it to malloc), hash
 * tables of strings and of slices, GString, GPtrArray, GList, GVariant. */
#include <glib.h>
#include <string.h>

typedef struct { int id; char name[20]; double v; } Rec;

int main(void)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTable *recs = g_hash_table_new(g_direct_hash, g_direct_equal);
	GPtrArray *slices = g_ptr_array_new();
	for (int i = 0; i < 50000; i++) {
		Rec *r = g_slice_new0(Rec);
		r->id = i;
		g_snprintf(r->name, sizeof r->name, "rec%d", i);
		r->v = i * 0.5;
		g_hash_table_insert(h, g_strdup(r->name), r);
		g_hash_table_insert(recs, GINT_TO_POINTER(i + 1), r);
		gsize sz = 8 + (i % 61) * 8;
		g_ptr_array_add(slices, g_slice_alloc(sz));
	}
	for (guint i = 0; i < slices->len; i += 2)
		g_slice_free1(8 + (i % 61) * 8, g_ptr_array_index(slices, i));
	GString *s = g_string_new(NULL);
	for (int i = 0; i < 50000; i += 97) {
		char key[32];
		g_snprintf(key, sizeof key, "rec%d", i);
		Rec *r = g_hash_table_lookup(h, key);
		g_string_append_printf(s, "%d:%s:%.1f;", r->id, r->name, r->v);
	}
	GList *l = NULL;
	for (int i = 0; i < 10000; i++)
		l = g_list_prepend(l, GINT_TO_POINTER(i));
	l = g_list_reverse(l);
	GVariant *var = g_variant_new_parsed("{'a': <[1, 2, 3]>, 'b': <'text'>}");
	gchar *printed = g_variant_print(var, TRUE);
	g_print("%u %u %zu %u %s %s\n", g_hash_table_size(h), g_hash_table_size(recs), s->len,
	        g_list_length(l), g_checksum_type_get_length(G_CHECKSUM_SHA256) == 32 ? "sha" : "?", printed);
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, s->len);
	g_print("%s\n", sum);
	g_free(sum);
	g_free(printed);
	g_variant_unref(var);
	g_list_free(l);
	g_string_free(s, TRUE);
	for (guint i = 1; i < slices->len; i += 2)
		g_slice_free1(8 + (i % 61) * 8, g_ptr_array_index(slices, i));
	g_ptr_array_free(slices, TRUE);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, recs);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_slice_free(Rec, v);
	g_hash_table_destroy(recs);
	g_hash_table_destroy(h);
	return 0;
}
