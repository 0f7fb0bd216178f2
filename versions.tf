terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State is local by default so `terraform init` works anywhere. For a shared S3 backend,
  # copy backend.tf.example to backend.tf and run `terraform init -backend-config=...`
  # (see "Remote state in S3" in README.md).
}

# Region and credentials come from the usual AWS environment (AWS_REGION, AWS_PROFILE, SSO,
# instance role); nothing account- or region-specific is hard-coded here.
provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
