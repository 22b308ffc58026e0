/*
 * What Salesforce answers, read by the parsers of sf_wire.h: token
 * responses, composite answers (for upserts, lookups and updates,
 * deletes, several collections), error bodies, HTML, the price book
 * query, Sforce-Limit-Info, and error classification.
 *
 * Input: a parser byte, a status byte (an index into statuses[]), then
 * the response body. For classification the body is "code NUL message
 * NUL key_field".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common.h"
#include "map.h"
#include "result.h"
#include "salesforce.h"
#include "sf_wire.h"

static const long statuses[] = {
	200, 201, 204, 300, 400, 401, 403, 404, 405, 420, 429, 500, 502,
	503, 0, 999
};

/* The composites one plan of each kind packs into. */
#define NPLANS 4
static struct map_plan plans[NPLANS];
static struct sf_pack packs[NPLANS];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
add_step(struct map_plan *plan, enum map_op op, const char *sobject,
    const char *ext_field, const char *records)
{
	struct map_step *st = &plan->steps[plan->n++];

	st->op = op;
	st->sobject = sobject;
	st->ext_field = ext_field;
	st->records = json_tokener_parse(records);
	FUZZ_CHECK(st->records != NULL);
}

/* 450 order lines: three collections in one composite. */
static void
add_many_lines(struct map_plan *plan)
{
	struct json_object *list, *rec;
	struct map_step *st = &plan->steps[plan->n++];
	char key[32];
	int i;

	list = json_object_new_array();
	FUZZ_CHECK(list != NULL);
	for (i = 0; i < 450; i++) {
		rec = json_object_new_object();
		FUZZ_CHECK(rec != NULL);
		snprintf(key, sizeof(key), "%d", i + 1);
		json_object_object_add(rec, "WC_Line_Id__c",
		    json_object_new_string(key));
		json_object_object_add(rec, "Quantity", json_object_new_int(1));
		json_object_array_add(list, rec);
	}
	st->op = MAP_UPSERT;
	st->sobject = "OrderItem";
	st->ext_field = "WC_Line_Id__c";
	st->records = list;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256];
	int i;

	fuzz_quiet_logs();
	add_step(&plans[0], MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"2\",\"Name\":\"A\"}]");
	add_step(&plans[0], MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"2\",\"LastName\":\"B\"}]");
	add_step(&plans[1], MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"17\",\"IsActive\":false}]");
	add_step(&plans[1], MAP_UPDATE_ONLY, "PricebookEntry",
	    "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-17\",\"IsActive\":false}]");
	add_step(&plans[2], MAP_DELETE, "OrderItem", "WC_Line_Id__c",
	    "[{\"WC_Line_Id__c\":\"7\"},{\"WC_Line_Id__c\":\"8\"}]");
	add_step(&plans[3], MAP_UPSERT, "Order", "WC_Order_Id__c",
	    "[{\"WC_Order_Id__c\":\"51\",\"Status\":\"Draft\"}]");
	add_many_lines(&plans[3]);
	for (i = 0; i < NPLANS; i++) {
		FUZZ_CHECK(sf_wire_pack(&plans[i], "62.0", NULL, &packs[i],
		    why, sizeof(why)) == WC2SF_OK);
		FUZZ_CHECK(packs[i].n > 0);
	}
	return 0;
}

/* Strings in the outcome fit their buffers. */
static void
check_outcome(const struct sf_outcome *out)
{
	FUZZ_CHECK(strnlen(out->code, sizeof(out->code)) <
	    sizeof(out->code));
	FUZZ_CHECK(strnlen(out->message, sizeof(out->message)) <
	    sizeof(out->message));
}

static bool
is_result(enum wc2sf_result r)
{
	return r >= WC2SF_OK && r <= WC2SF_INTERNAL;
}

static void
read_token(long status, const char *body, size_t len)
{
	struct sf_outcome out;
	struct sf_token *tok;
	enum wc2sf_result r;

	if ((tok = calloc(1, sizeof(*tok))) == NULL)
		return;
	memset(&out, 0, sizeof(out));
	r = sf_auth_read_token(status, body, len, tok, &out);
	FUZZ_CHECK(r == WC2SF_OK || r == WC2SF_SF_AUTH ||
	    r == WC2SF_SF_UNAVAILABLE || r == WC2SF_NO_MEMORY);
	if (r == WC2SF_OK) {
		FUZZ_CHECK(tok->access[0] != '\0');
		FUZZ_CHECK(strncmp(tok->instance_url, "https://", 8) == 0);
	}
	FUZZ_CHECK(strnlen(tok->access, SF_TOKEN_MAX) < SF_TOKEN_MAX);
	FUZZ_CHECK(strnlen(tok->refresh, SF_TOKEN_MAX) < SF_TOKEN_MAX);
	FUZZ_CHECK(strnlen(tok->instance_url, SF_URL_MAX) < SF_URL_MAX);
	check_outcome(&out);
	sf_outcome_clear(&out);
	free(tok);
}

static void
read_composite(unsigned which, long status, const char *body, size_t len)
{
	const struct sf_pack *pack = &packs[which % NPLANS];
	struct sf_outcome out;
	enum wc2sf_result r;
	size_t i;

	memset(&out, 0, sizeof(out));
	for (i = 0; i < pack->n; i++) {
		r = sf_wire_read_composite(&pack->parts[i], status, body, len,
		    &out);
		FUZZ_CHECK(is_result(r));
		check_outcome(&out);
		if (out.ids != NULL)
			FUZZ_CHECK(json_object_is_type(out.ids,
			    json_type_object));
	}
	sf_outcome_clear(&out);
}

static void
classify(long status, const char *body, size_t len)
{
	const char *code = body, *message = "", *key = NULL;
	const char *end = body + len;
	size_t n;

	n = strlen(code);
	if (code + n < end) {
		message = code + n + 1;
		n = strlen(message);
		if (message + n < end)
			key = message + n + 1;
	}
	FUZZ_CHECK(is_result(sf_wire_classify(status, code, message, key)));
	FUZZ_CHECK(is_result(sf_classify((int)status, code, message)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_outcome out;
	struct json_object *o;
	enum wc2sf_result r;
	char *body, id[64];
	long status, used = -1, max = -1;
	size_t len;

	if (size < 2)
		return 0;
	status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	len = size - 2;
	/* A copy of just the body, so reads past it are caught. */
	if ((body = fuzz_strndup(data + 2, len)) == NULL)
		return 0;
	memset(&out, 0, sizeof(out));
	switch (data[0] % 9) {
	case 0:
		read_token(status, body, len);
		break;
	case 1:
	case 2:
	case 3:
	case 4:
		read_composite(data[0] % 9 - 1, status, body, len);
		break;
	case 5:
		r = sf_wire_read_error(status, body, len, &out);
		FUZZ_CHECK(is_result(r) && r != WC2SF_OK);
		check_outcome(&out);
		break;
	case 6:
		memset(id, 0, sizeof(id));
		r = sf_wire_read_pricebook(status, body, len, id, sizeof(id),
		    &out);
		FUZZ_CHECK(is_result(r));
		if (r == WC2SF_OK)
			FUZZ_CHECK(id[0] != '\0' &&
			    strnlen(id, sizeof(id)) < sizeof(id));
		check_outcome(&out);
		break;
	case 7:
		(void)sf_wire_limit_info(body, &used, &max);
		o = sf_wire_parse(body, len);
		if (o != NULL)
			FUZZ_CHECK(!json_object_is_type(o, json_type_null));
		json_object_put(o);
		break;
	default:
		classify(status, body, len);
		break;
	}
	sf_outcome_clear(&out);
	free(body);
	return 0;
}
