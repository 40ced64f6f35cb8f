// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {IController} from "./Interfaces.sol";

/// @notice Registry through which off-chain code and the other contracts
/// find the protocol contracts, so a contract can be replaced without
/// touching its readers. Like the protocol's Controller it can pause the
/// system, which stops redemptions, funding and round initialization.
contract Controller is Owned, IController {
    mapping(bytes32 => address) private registry;
    bool public paused;

    event SetContractInfo(bytes32 id, address contractAddress);
    event Pause();
    event Unpause();

    function setContractInfo(bytes32 id, address contractAddress) external onlyOwner {
        registry[id] = contractAddress;
        emit SetContractInfo(id, contractAddress);
    }

    function getContract(bytes32 id) external view returns (address) {
        return registry[id];
    }

    function pause() external onlyOwner {
        require(!paused, "paused");
        paused = true;
        emit Pause();
    }

    function unpause() external onlyOwner {
        require(paused, "not paused");
        paused = false;
        emit Unpause();
    }
}
