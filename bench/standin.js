// The composite endpoint of `make bench`'s Salesforce stand-in (nginx
// with njs). lib/sf_wire.c checks that an answer has one result per
// subrequest and, for a collection upsert, one result per record, so a
// fixed text cannot answer every delivery: this builds the canned
// success answer that fits the request's shape, and nothing more. No
// state, no validation; ids are made up.

function record_id(n) {
	var s = String(n);

	return "0BENCH" + "000000000000".substring(s.length) + s;
}

function result(sub, status, body) {
	return {
		body: body,
		httpHeaders: {},
		httpStatusCode: status,
		referenceId: sub.referenceId
	};
}

// What Salesforce answers to one subrequest that succeeds.
function answer(sub, i) {
	var url = sub.url || "";
	var records, out, k;

	if (url.indexOf("/composite/sobjects/") >= 0) {
		records = (sub.body && sub.body.records) || [];
		out = [];
		for (k = 0; k < records.length; k++)
			out.push({ id: record_id(k + 1), success: true,
			    errors: [], created: true });
		return result(sub, 200, out);
	}
	if (sub.method === "GET")
		return result(sub, 200, { Id: record_id(i + 1) });
	if (sub.method === "DELETE")
		return result(sub, 204, null);
	return result(sub, 201, { id: record_id(i + 1), success: true,
	    errors: [], created: true });
}

function composite(r) {
	var request, subs, out, i;

	try {
		request = JSON.parse(r.requestText);
	} catch (e) {
		r.return(400, '[{"errorCode":"JSON_PARSER_ERROR",' +
		    '"message":"the bench stand-in cannot parse this"}]');
		return;
	}
	subs = request.compositeRequest || [];
	out = [];
	for (i = 0; i < subs.length; i++)
		out.push(answer(subs[i], i));
	r.headersOut["Content-Type"] = "application/json";
	r.return(200, JSON.stringify({ compositeResponse: out }));
}

export default { composite };
