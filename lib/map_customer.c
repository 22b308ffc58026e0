#include "map.h"
#include "map_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "text.h"

/*
 * Customers, and the buyer of an order, become a business Account with
 * one Contact, both keyed by the same external ID: WC_Customer_Id__c for
 * a registered customer, WC_Guest_Email__c for a guest. "@" paths read
 * the person: the customer itself, or the order's billing address.
 */

static const struct map_field account_fields[] = {
	{ "@", "Name", CONV_ACCOUNT_NAME, 255, 0 },
	{ "billing", "BillingStreet", CONV_STREET, 255, 0 },
	{ "billing.city", "BillingCity", CONV_TEXT, 40, 0 },
	{ "billing.state", "BillingState", CONV_STATE, 80, 0 },
	{ "billing.postcode", "BillingPostalCode", CONV_TEXT, 20, 0 },
	{ "billing.country", "BillingCountry", CONV_COUNTRY, 80, 0 },
	{ "shipping", "ShippingStreet", CONV_STREET, 255, 0 },
	{ "shipping.city", "ShippingCity", CONV_TEXT, 40, 0 },
	{ "shipping.state", "ShippingState", CONV_STATE, 80, 0 },
	{ "shipping.postcode", "ShippingPostalCode", CONV_TEXT, 20, 0 },
	{ "shipping.country", "ShippingCountry", CONV_COUNTRY, 80, 0 },
	{ "billing.phone", "Phone", CONV_TEXT, 40, 0 },
	{ "", "WC_Deleted__c", CONV_FALSE, 0, 0 },
};

static const struct map_field contact_fields[] = {
	{ "@", "FirstName", CONV_FIRST_NAME, 40, 0 },
	{ "@", "LastName", CONV_LAST_NAME, 80, 0 },
	{ "@email|billing.email", "Email", CONV_EMAIL, 80, 0 },
	{ "billing.phone", "Phone", CONV_TEXT, 40, 0 },
	{ "billing", "MailingStreet", CONV_STREET, 255, 0 },
	{ "billing.city", "MailingCity", CONV_TEXT, 40, 0 },
	{ "billing.state", "MailingState", CONV_STATE, 80, 0 },
	{ "billing.postcode", "MailingPostalCode", CONV_TEXT, 20, 0 },
	{ "billing.country", "MailingCountry", CONV_COUNTRY, 80, 0 },
	{ "shipping", "OtherStreet", CONV_STREET, 255, 0 },
	{ "shipping.city", "OtherCity", CONV_TEXT, 40, 0 },
	{ "shipping.state", "OtherState", CONV_STATE, 80, 0 },
	{ "shipping.postcode", "OtherPostalCode", CONV_TEXT, 20, 0 },
	{ "shipping.country", "OtherCountry", CONV_COUNTRY, 80, 0 },
	{ "", "WC_Deleted__c", CONV_FALSE, 0, 0 },
};

/*
 * What an order says of a registered buyer: who it is, and nothing the
 * customer's own events own (addresses, phone, the deleted mark).
 */
static const struct map_field account_identity_fields[] = {
	{ "@", "Name", CONV_ACCOUNT_NAME, 255, 0 },
};

static const struct map_field contact_identity_fields[] = {
	{ "@", "FirstName", CONV_FIRST_NAME, 40, 0 },
	{ "@", "LastName", CONV_LAST_NAME, 80, 0 },
	{ "@email|billing.email", "Email", CONV_EMAIL, 80, 0 },
};

/* customer.deleted marks both records; Salesforce keeps them. */
static const struct map_field deleted_fields[] = {
	{ "", "WC_Deleted__c", CONV_TRUE, 0, 0 },
};

static const struct map_record_spec deleted_steps[] = {
	{ "Account", MAP_CUSTOMER_KEY, "", NULL, NULL, deleted_fields,
	    MAP_NELEM(deleted_fields) },
	{ "Contact", MAP_CUSTOMER_KEY, "", NULL, NULL, deleted_fields,
	    MAP_NELEM(deleted_fields) },
};

/* An address object's address_1 and address_2, one per line. */
enum wc2sf_result
map_conv_street(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	char *one = NULL, *two = NULL, *both;
	enum wc2sf_result result;
	size_t n;

	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_object))
		return map_wrong_type(ctx, path, "an object", v);
	result = map_member_text(ctx, v, path, "address_1", &one);
	if (result == WC2SF_OK)
		result = map_member_text(ctx, v, path, "address_2", &two);
	if (result != WC2SF_OK)
		goto out;
	n = strlen(one) + strlen(two) + 2;
	if ((both = malloc(n)) == NULL) {
		result = map_no_memory(ctx);
		goto out;
	}
	snprintf(both, n, "%s%s%s", one, one[0] != '\0' && two[0] != '\0' ?
	    "\n" : "", two);
	result = map_text_value(ctx, both, f->max_len, out);
out:
	free(one);
	free(two);
	return result;
}

/*
 * The names of the person: first and last from the person object, or
 * from the body's billing address when both are empty there; e-mail
 * likewise; company from billing. All "" when absent.
 */
struct person {
	char *first;
	char *last;
	char *email;
	char *company;
};

static void
person_clear(struct person *p)
{
	free(p->first);
	free(p->last);
	free(p->email);
	free(p->company);
	memset(p, 0, sizeof(*p));
}

static enum wc2sf_result
person_read(struct map_ctx *ctx, struct person *p)
{
	enum wc2sf_result result;

	memset(p, 0, sizeof(*p));
	result = map_read_text(ctx, NULL, "@first_name", &p->first);
	if (result == WC2SF_OK)
		result = map_read_text(ctx, NULL, "@last_name", &p->last);
	if (result == WC2SF_OK && p->first[0] == '\0' &&
	    p->last[0] == '\0') {
		free(p->first);
		free(p->last);
		p->first = p->last = NULL;
		result = map_read_text(ctx, ctx->root, "billing.first_name",
		    &p->first);
		if (result == WC2SF_OK)
			result = map_read_text(ctx, ctx->root,
			    "billing.last_name", &p->last);
	}
	if (result == WC2SF_OK)
		result = map_read_text(ctx, NULL, "@email", &p->email);
	if (result == WC2SF_OK && p->email[0] == '\0') {
		free(p->email);
		p->email = NULL;
		result = map_read_text(ctx, ctx->root, "billing.email",
		    &p->email);
	}
	if (result == WC2SF_OK)
		result = map_read_text(ctx, ctx->root, "billing.company",
		    &p->company);
	if (result != WC2SF_OK)
		person_clear(p);
	return result;
}

/*
 * Account Name, Contact LastName and FirstName. Salesforce requires the
 * first two, so they fall back to the e-mail and then to the context's
 * fallback name; a one-word name is a last name.
 */
enum wc2sf_result
map_conv_person(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	struct person p;
	enum wc2sf_result result;
	const char *pick = "";
	char *s;
	size_t n;

	result = person_read(ctx, &p);
	if (result != WC2SF_OK)
		return result;
	if (f->conv == CONV_FIRST_NAME)
		pick = p.last[0] != '\0' ? p.first : "";
	else if (f->conv == CONV_ACCOUNT_NAME && p.company[0] != '\0')
		pick = p.company;
	else if (f->conv == CONV_LAST_NAME && p.last[0] != '\0')
		pick = p.last;
	else if (p.first[0] != '\0' || p.last[0] != '\0')
		pick = NULL;		/* "first last", either may be empty */
	else if (p.email[0] != '\0')
		pick = p.email;
	else
		pick = ctx->fallback_name;
	n = strlen(p.first) + strlen(p.last) + 2;
	if (pick != NULL)
		s = strdup(pick);
	else if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s%s%s", p.first, p.first[0] != '\0' &&
		    p.last[0] != '\0' ? " " : "", p.last);
	person_clear(&p);
	if (s == NULL)
		return map_no_memory(ctx);
	return map_text_value(ctx, s, f->max_len, out);
}

/* The characters Salesforce's Email fields take before the '@'. */
static bool
email_local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr(".!#$%&'*+/=?^_`{|}~-", c) !=
	    NULL;
}

/*
 * An address Salesforce's Email field accepts: ASCII local part, '@',
 * two or more dot-separated labels of letters, digits and inner
 * hyphens. Anything else (spaces, non-ASCII, a bare host) would make
 * Salesforce refuse the whole record, so it is left out instead.
 */
static bool
looks_like_email(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t label = 0, labels = 0;

	if (at == NULL || at == s)
		return false;
	for (p = s; p < at; p++)
		if (!email_local_char(*p))
			return false;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || p[-1] == '-')
				return false;
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)) ||
		    ++label > 63)
			return false;
	}
	return labels >= 2;
}

/* An address that would not fit is left out rather than cut. */
enum wc2sf_result
map_conv_email(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	enum wc2sf_result result;
	char *s;

	result = map_clean_text(ctx, path, v, &s);
	if (result != WC2SF_OK || s == NULL)
		return result;
	if (!looks_like_email(s) ||
	    (f->max_len > 0 && text_utf16_len(s) > f->max_len)) {
		free(s);
		return WC2SF_OK;
	}
	return map_text_value(ctx, s, f->max_len, out);
}

/*
 * The Contact names its Account by the same key, so the pair can be
 * sent in one request or retried apart. identity_only keeps to the
 * names and e-mail (an order's registered buyer).
 */
enum wc2sf_result
map_buyer_steps(struct map_ctx *ctx, struct map_plan *plan,
    const char *key_field, const char *key, bool identity_only)
{
	struct map_record_spec account = {
		"Account", key_field, "", NULL, NULL,
		account_fields, MAP_NELEM(account_fields)
	};
	struct map_record_spec contact = {
		"Contact", key_field, "", "Account", key_field,
		contact_fields, MAP_NELEM(contact_fields)
	};
	enum wc2sf_result result;

	if (identity_only) {
		account.fields = account_identity_fields;
		account.nfields = MAP_NELEM(account_identity_fields);
		contact.fields = contact_identity_fields;
		contact.nfields = MAP_NELEM(contact_identity_fields);
	}

	if (key[0] == '\0')
		return map_fail(ctx, WC2SF_BAD_PAYLOAD,
		    "the buyer has no key for %s", key_field);
	result = map_step_record(ctx, plan, MAP_UPSERT, &account, key,
	    ctx->root);
	if (result == WC2SF_OK)
		result = map_step_record(ctx, plan, MAP_UPSERT, &contact, key,
		    ctx->root);
	return result;
}

enum wc2sf_result
map_customer_build(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	char fallback[96];

	snprintf(fallback, sizeof(fallback), "Customer %s", id);
	ctx->person = ctx->root;
	ctx->person_path = "";
	ctx->fallback_name = fallback;
	return map_buyer_steps(ctx, plan, MAP_CUSTOMER_KEY, id, false);
}

enum wc2sf_result
map_customer_deleted(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	enum wc2sf_result result = WC2SF_OK;
	size_t i;

	for (i = 0; i < MAP_NELEM(deleted_steps) && result == WC2SF_OK; i++)
		result = map_step_record(ctx, plan, MAP_UPDATE_ONLY,
		    &deleted_steps[i], id, ctx->root);
	return result;
}
