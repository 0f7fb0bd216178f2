# The optional report bucket: private, encrypted, versioned, with a lifecycle rule.

resource "aws_s3_bucket" "reports" {
  #checkov:skip=CKV_AWS_18:Server access logging needs a separate log bucket; reads and writes are auditable with CloudTrail data events instead.
  #checkov:skip=CKV_AWS_144:Reports are regenerated from the ledger API on every run; versioning covers overwrites, so cross-region replication is not worth a second bucket.
  #checkov:skip=CKV2_AWS_62:No consumer needs notifications of new reports.
  count = var.create_report_bucket ? 1 : 0

  bucket        = var.report_bucket_name
  bucket_prefix = var.report_bucket_name == null ? local.report_bucket_prefix : null
  force_destroy = var.report_bucket_force_destroy
}

resource "aws_s3_bucket_public_access_block" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.reports[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  # SSE-KMS with report_kms_key_arn, or else the AWS managed aws/s3 key (no key grants needed).
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.report_kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  rule {
    id     = "reports"
    status = "Enabled"

    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.report_noncurrent_version_expiration_days
    }

    dynamic "expiration" {
      for_each = var.report_expiration_days == null ? [] : [var.report_expiration_days]

      content {
        days = expiration.value
      }
    }
  }

  # A run's pages (tagged benchtest=pages by the function) expire on their own schedule. The
  # rule above matches them too, and S3 applies the earlier of two expirations.
  dynamic "rule" {
    for_each = var.pages_expiration_days == null ? [] : [var.pages_expiration_days]

    content {
      id     = "pages"
      status = "Enabled"

      filter {
        tag {
          key   = "benchtest"
          value = "pages"
        }
      }

      expiration {
        days = rule.value
      }
    }
  }

  # Lifecycle rules on noncurrent versions need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.reports]
}

data "aws_iam_policy_document" "reports_bucket" {
  count = var.create_report_bucket ? 1 : 0

  # A guardrail, not a grant: refuse every request that does not use TLS.
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.reports[0].arn,
      "${aws_s3_bucket.reports[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id
  policy = data.aws_iam_policy_document.reports_bucket[0].json

  # S3 rejects policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.reports]
}
