# Generated from benchtest/settings.py by `python scripts/generate_settings.py`: do not
# edit (tests/test_config.py fails when it is stale).

variable "settings" {
  description = "benchtest settings by name (docs/settings.md), values as in sites.conf, e.g. { paging = \"offset\", records_path = \"data.items\", deadline = \"600\" }. Each becomes BENCH_<NAME>; the function checks them at start. Settings with a variable of their own are not keys here: url (api_url), auth_header (auth_header_name), assert_balance (assert_balances), concurrency (fetch_concurrency), timeout (fetch_timeout), retries (fetch_retries)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.settings) : contains(["backoff", "retry_after_cap", "deadline", "max_pages", "headers", "paging", "page_end", "limit", "next_path", "more_path", "cursor_param", "cursor_field", "records_path", "total_path", "page_path", "date_field", "amount_field", "category_field", "counterparty_field", "date_form", "time_zone", "amount_form", "sign", "sign_field", "sign_values", "currency_field", "currency", "skip_field", "skip_values", "detail_limit", "max_days", "active_days_only", "exclude_duplicates", "allow_empty"], name)])
    error_message = "settings keys must be benchtest settings without a variable of their own: backoff, retry_after_cap, deadline, max_pages, headers, paging, page_end, limit, next_path, more_path, cursor_param, cursor_field, records_path, total_path, page_path, date_field, amount_field, category_field, counterparty_field, date_form, time_zone, amount_form, sign, sign_field, sign_values, currency_field, currency, skip_field, skip_values, detail_limit, max_days, active_days_only, exclude_duplicates, allow_empty."
  }
}

variable "fetch_concurrency" {
  description = "BENCH_CONCURRENCY: pages fetched at once. 16: a 1M-transaction ledger of 100 per page at 100 ms a page is ~63 s of waiting."
  type        = number
  default     = 16

  validation {
    condition     = var.fetch_concurrency >= 1 && var.fetch_concurrency <= 64 && floor(var.fetch_concurrency) == var.fetch_concurrency
    error_message = "fetch_concurrency must be a whole number between 1 and 64."
  }
}

variable "fetch_timeout" {
  description = "BENCH_TIMEOUT: seconds allowed for one page request."
  type        = number
  default     = 10

  validation {
    condition     = var.fetch_timeout >= 0.1 && var.fetch_timeout <= 600
    error_message = "fetch_timeout must be a number between 0.1 and 600."
  }
}

variable "fetch_retries" {
  description = "BENCH_RETRIES: retries of a failed page request."
  type        = number
  default     = 4

  validation {
    condition     = var.fetch_retries >= 0 && var.fetch_retries <= 20 && floor(var.fetch_retries) == var.fetch_retries
    error_message = "fetch_retries must be a whole number between 0 and 20."
  }
}

variable "environment_variables" {
  description = "Further environment variables for the function (e.g. BENCH_DEADLINE). They may not set what other variables set."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.environment_variables), ["BENCH_API_URL", "BENCH_CONCURRENCY", "BENCH_TIMEOUT", "BENCH_RETRIES", "BENCH_AUTH_HEADER", "BENCH_PAGING", "BENCH_PAGE_END", "BENCH_LIMIT", "BENCH_NEXT_PATH", "BENCH_MORE_PATH", "BENCH_CURSOR_PARAM", "BENCH_CURSOR_FIELD", "BENCH_RECORDS_PATH", "BENCH_TOTAL_PATH", "BENCH_PAGE_PATH", "BENCH_DATE_FIELD", "BENCH_AMOUNT_FIELD", "BENCH_CATEGORY_FIELD", "BENCH_COUNTERPARTY_FIELD", "BENCH_DATE_FORM", "BENCH_TIME_ZONE", "BENCH_AMOUNT_FORM", "BENCH_SIGN", "BENCH_SIGN_FIELD", "BENCH_SIGN_VALUES", "BENCH_CURRENCY_FIELD", "BENCH_CURRENCY", "BENCH_SKIP_FIELD", "BENCH_SKIP_VALUES", "BENCH_ASSERT_BALANCE", "REPORT_BUCKET", "REPORT_PREFIX", "REPORT_KMS_KEY_ID", "REPORT_KEEP_PAGES", "BENCH_AUTH_PARAMETER"])) == 0
    error_message = "environment_variables may not set BENCH_API_URL, BENCH_CONCURRENCY, BENCH_TIMEOUT, BENCH_RETRIES, BENCH_AUTH_HEADER, BENCH_PAGING, BENCH_PAGE_END, BENCH_LIMIT, BENCH_NEXT_PATH, BENCH_MORE_PATH, BENCH_CURSOR_PARAM, BENCH_CURSOR_FIELD, BENCH_RECORDS_PATH, BENCH_TOTAL_PATH, BENCH_PAGE_PATH, BENCH_DATE_FIELD, BENCH_AMOUNT_FIELD, BENCH_CATEGORY_FIELD, BENCH_COUNTERPARTY_FIELD, BENCH_DATE_FORM, BENCH_TIME_ZONE, BENCH_AMOUNT_FORM, BENCH_SIGN, BENCH_SIGN_FIELD, BENCH_SIGN_VALUES, BENCH_CURRENCY_FIELD, BENCH_CURRENCY, BENCH_SKIP_FIELD, BENCH_SKIP_VALUES, BENCH_ASSERT_BALANCE, REPORT_BUCKET, REPORT_PREFIX, REPORT_KMS_KEY_ID, REPORT_KEEP_PAGES, BENCH_AUTH_PARAMETER: use their own variables (settings for the source settings)."
  }
}
