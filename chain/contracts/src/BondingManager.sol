// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {IBondingManager} from "./Interfaces.sol";

/// @notice Only the two views TicketBroker and the redeemer need; staking
/// itself is out of scope for the dev chain, so the owner sets the active set.
contract BondingManager is Owned, IBondingManager {
    mapping(address => bool) private active;
    uint256 private poolSize;

    event TranscoderActivated(address indexed transcoder, bool active);
    event TranscoderPoolSizeSet(uint256 poolSize);

    function setActiveTranscoder(address transcoder, bool isActive) external onlyOwner {
        if (active[transcoder] == isActive) {
            return;
        }
        active[transcoder] = isActive;
        if (isActive) {
            poolSize += 1;
        } else if (poolSize > 0) {
            // The pool size may have been overridden below the number of
            // actives; saturate rather than revert so deactivation always works.
            poolSize -= 1;
        }
        emit TranscoderActivated(transcoder, isActive);
    }

    /// @dev Lets tests change every sender's reserve allocation without
    /// changing which recipients are active.
    function setTranscoderPoolSize(uint256 size) external onlyOwner {
        poolSize = size;
        emit TranscoderPoolSizeSet(size);
    }

    function getTranscoderPoolSize() external view returns (uint256) {
        return poolSize;
    }

    function isActiveTranscoder(address transcoder) external view returns (bool) {
        return active[transcoder];
    }
}
